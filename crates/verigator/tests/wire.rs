//! Wire-exact tests of every Verigator endpoint against a mock HTTP server: method, path,
//! headers and JSON body; typed errors for every status; hostile answers; no leaked secrets.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use phone_verify_core::http::{Clock, ConfigureHttp, HttpConfig, RetryPolicy, Sleep, Timeouts};
use phone_verify_core::{
    Channel, Code, ErrorKind, PhoneNumber, PhoneVerifier, PhoneVerifierExt, RejectReason, Result,
    StartRequest, Verification,
};
use phone_verify_verigator::{
    AuthMethod, EXTRA_METHOD, EXTRA_REQUESTED_METHOD, EXTRA_SERVICE_ID, EXTRA_USER_ID, IdScheme,
    MAX_CONCURRENT_SCANS, Verigator, VerigatorBuilder, VerigatorClient,
};
use serde_json::{Value, json};
use wiremock::matchers::{body_json, header, method, path};
use wiremock::{Mock, MockBuilder, MockServer, ResponseTemplate};

const SID: &str = "0c9b2d4e-1f3a-4b5c-8d6e-7f8091a2b3c4";
const UID: &str = "a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d";
const USERNAME: &str = "canary-user";
const PASSWORD: &str = "canary-pass";
const SERVICE_AUTH: &str = "canary-user:canary-pass";
const PHONE: &str = "+37251234567";

fn phone() -> PhoneNumber {
    PhoneNumber::parse(PHONE).unwrap()
}

/// A builder for the mock server: quick retries, so tests of retried reads stay short.
fn builder(server: &MockServer) -> VerigatorBuilder {
    VerigatorBuilder::new(USERNAME, PASSWORD)
        .base_url(&format!("{}/v1", server.uri()))
        .service_id(SID)
        .retry(
            RetryPolicy::default().with_backoff(Duration::from_millis(1), Duration::from_millis(5)),
        )
}

fn client(server: &MockServer) -> VerigatorClient {
    builder(server).build_client().unwrap()
}

fn verifier(server: &MockServer) -> Verigator {
    builder(server).build().unwrap()
}

fn service_path() -> String {
    format!("/v1/service/service/{SID}")
}

fn users_path() -> String {
    format!("/v1/service/service/{SID}/users")
}

fn user_path() -> String {
    format!("/v1/service/service/{SID}/users/{UID}")
}

fn auth_path() -> String {
    format!("/v1/service/service/{SID}/users/{UID}/auth")
}

/// A request to `method path` with Verigator's headers.
fn expect(verb: &str, p: &str) -> MockBuilder {
    Mock::given(method(verb))
        .and(path(p))
        .and(header("x-service-auth", SERVICE_AUTH))
        .and(header("accept", "application/json"))
}

/// The same with a JSON body.
fn expect_json(verb: &str, p: &str, body: Value) -> MockBuilder {
    expect(verb, p)
        .and(header("content-type", "application/json"))
        .and(body_json(body))
}

fn user_json() -> Value {
    json!({"id": UID, "ctime": "2017-09-15T06:44:15.274438", "id_in_service": PHONE})
}

#[tokio::test]
async fn every_endpoint_is_wire_exact() {
    let server = MockServer::start().await;
    let client = client(&server);

    expect_json(
        "POST",
        "/v1/service/service",
        json!({"fqdn": "coffeeshop.com", "name": "Coffee Shop"}),
    )
    .respond_with(ResponseTemplate::new(201).set_body_json(
        json!({"id": SID, "name": "Coffee Shop", "ctime": "2017-07-06T13:12:03.141Z"}),
    ))
    .expect(1)
    .mount(&server)
    .await;
    let service = client
        .create_service(" coffeeshop.com ", "Coffee Shop")
        .await
        .unwrap();
    assert_eq!(service.id, SID);
    assert_eq!(service.name.as_deref(), Some("Coffee Shop"));
    assert_eq!(
        service
            .ctime
            .map(phone_verify_core::time::OffsetDateTime::unix_timestamp),
        Some(1_499_346_723)
    );

    expect("GET", &service_path())
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"id": SID, "ctime": "2017-09-15T06:44:15.274438", "name": "Coffee Shop"}),
        ))
        .expect(1)
        .mount(&server)
        .await;
    let fetched = client.get_service(SID).await.unwrap();
    assert_eq!(fetched.id, SID);
    assert!(fetched.ctime.is_some());

    expect_json(
        "POST",
        &users_path(),
        json!({"id_in_service": "alice", "phone_number": PHONE}),
    )
    .respond_with(
        ResponseTemplate::new(201)
            .set_body_json(json!({"id": UID, "ctime": null, "id_in_service": "alice"})),
    )
    .expect(1)
    .mount(&server)
    .await;
    let user = client.create_user(SID, "alice", &phone()).await.unwrap();
    assert_eq!(
        (user.id.as_str(), user.id_in_service.as_deref()),
        (UID, Some("alice"))
    );

    expect("GET", &users_path())
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"users": [user_json()], "total": 1})),
        )
        .expect(1)
        .mount(&server)
        .await;
    let list = client.list_users(SID).await.unwrap();
    assert_eq!(list.total, Some(1));
    assert_eq!(list.find(PHONE).map(|u| u.id.as_str()), Some(UID));

    expect("GET", &user_path())
        .respond_with(ResponseTemplate::new(200).set_body_json(user_json()))
        .expect(1)
        .mount(&server)
        .await;
    assert_eq!(client.get_user(SID, UID).await.unwrap().id, UID);

    expect_json("POST", &auth_path(), json!({"method": "totp"}))
        .respond_with(
            ResponseTemplate::new(201).set_body_json(json!({"method": "sms", "auth_id": null})),
        )
        .expect(1)
        .mount(&server)
        .await;
    let started = client.start_auth(SID, UID, AuthMethod::Totp).await.unwrap();
    assert_eq!(started.method, Some(AuthMethod::Sms));

    expect_json(
        "PUT",
        &auth_path(),
        json!({"token": "123456", "method": "sms"}),
    )
    .respond_with(
        ResponseTemplate::new(200).set_body_json(json!({"verified": true, "method": "sms"})),
    )
    .expect(1)
    .mount(&server)
    .await;
    let code = Code::new("123456").unwrap();
    let pin = client
        .verify_pin(SID, UID, &code, Some(AuthMethod::Sms))
        .await
        .unwrap();
    assert!(pin.verified);

    expect("DELETE", &user_path())
        .respond_with(ResponseTemplate::new(202))
        .expect(1)
        .mount(&server)
        .await;
    client.delete_user(SID, UID).await.unwrap();

    expect("DELETE", &service_path())
        .respond_with(ResponseTemplate::new(202).set_body_string("-"))
        .expect(1)
        .mount(&server)
        .await;
    client.delete_service(SID).await.unwrap();

    let received = server.received_requests().await.unwrap();
    assert_eq!(received.len(), 9);
    for request in &received {
        let sent_body = matches!(request.method.as_str(), "POST" | "PUT");
        assert_eq!(!request.body.is_empty(), sent_body, "{}", request.url);
        assert_eq!(
            request.headers.get("x-service-auth").unwrap(),
            SERVICE_AUTH,
            "plain text, not base64"
        );
    }
}

#[tokio::test]
async fn token_alone_when_no_method_is_given() {
    let server = MockServer::start().await;
    expect_json("PUT", &auth_path(), json!({"token": "654321"}))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "verified": false,
            "status": {"throttled": false, "expired": false, "invalid": true, "result": "INVALID"}
        })))
        .expect(1)
        .mount(&server)
        .await;
    let code = Code::new("654321").unwrap();
    let pin = client(&server)
        .verify_pin(SID, UID, &code, None)
        .await
        .unwrap();
    assert!(!pin.verified);
    assert!(pin.status.unwrap().invalid);
}

/// `GET …/users`, which a start must not send unless the user exists and is not cached.
fn no_listing() -> Mock {
    expect("GET", &users_path())
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"users": []})))
        .expect(0)
}

/// A 409 answer to registering the user.
fn user_exists() -> Mock {
    expect_json(
        "POST",
        &users_path(),
        json!({"id_in_service": PHONE, "phone_number": PHONE}),
    )
    .respond_with(
        ResponseTemplate::new(409).set_body_json(json!({"message": "User already exists"})),
    )
    .expect(1)
}

#[tokio::test]
async fn start_for_a_new_phone_registers_and_authenticates_without_a_listing() {
    let server = MockServer::start().await;
    no_listing().mount(&server).await;
    expect_json(
        "POST",
        &users_path(),
        json!({"id_in_service": PHONE, "phone_number": PHONE}),
    )
    .respond_with(ResponseTemplate::new(201).set_body_json(user_json()))
    .expect(1)
    .mount(&server)
    .await;
    expect_json("POST", &auth_path(), json!({"method": "sms"}))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({"method": "sms"})))
        .expect(1)
        .mount(&server)
        .await;
    expect_json(
        "PUT",
        &auth_path(),
        json!({"token": "123456", "method": "sms"}),
    )
    .respond_with(ResponseTemplate::new(200).set_body_json(json!({"verified": true})))
    .expect(1)
    .mount(&server)
    .await;

    let verifier = verifier(&server);
    let handle = verifier.start(&StartRequest::sms(phone())).await.unwrap();
    assert_eq!(handle.provider.as_str(), "verigator");
    assert_eq!(handle.reference, UID);
    assert_eq!(handle.channel, Channel::Sms);
    assert_eq!(handle.phone, Some(phone()));
    assert_eq!(handle.extra_str(EXTRA_SERVICE_ID), Some(SID));
    assert_eq!(handle.extra_str(EXTRA_USER_ID), Some(UID));
    assert_eq!(handle.extra_str(EXTRA_METHOD), Some("sms"));
    assert_eq!(handle.extra_str(EXTRA_REQUESTED_METHOD), None);
    assert_eq!(handle.expires_at, None);

    let outcome = verifier
        .check_code(&handle, &Code::new("123456").unwrap())
        .await
        .unwrap();
    let done = outcome.verified().unwrap();
    assert_eq!(done.phone, Some(phone()));
    assert_eq!(done.channel, Channel::Sms);
    assert_eq!(done.session_id, None);
    server.verify().await;
}

#[tokio::test]
async fn a_cached_phone_starts_with_no_user_request() {
    let server = MockServer::start().await;
    no_listing().mount(&server).await;
    // Registered once, by the first start; the second finds the id in the cache.
    expect("POST", &users_path())
        .respond_with(ResponseTemplate::new(201).set_body_json(user_json()))
        .expect(1)
        .mount(&server)
        .await;
    expect_json("POST", &auth_path(), json!({"method": "totp"}))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({"method": "sms"})))
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    expect_json("POST", &auth_path(), json!({"method": "totp"}))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({"method": "totp"})))
        .expect(1)
        .mount(&server)
        .await;
    let verifier = builder(&server)
        .pin_validity(Duration::from_secs(300))
        .build()
        .unwrap();

    // TOTP without the app: Verigator falls back to SMS, and the handle says so.
    let fallback = verifier
        .start(&StartRequest::otp(Channel::Totp, phone()))
        .await
        .unwrap();
    assert_eq!(fallback.channel, Channel::Sms);
    assert_eq!(fallback.extra_str(EXTRA_METHOD), Some("sms"));
    assert_eq!(fallback.extra_str(EXTRA_REQUESTED_METHOD), Some("totp"));
    assert_eq!(
        fallback.expires_at,
        Some(fallback.created_at + Duration::from_secs(300))
    );

    let app = verifier
        .start(&StartRequest::otp(Channel::Totp, phone()))
        .await
        .unwrap();
    assert_eq!(app.reference, UID);
    assert_eq!(app.channel, Channel::Totp);
    assert_eq!(app.extra_str(EXTRA_METHOD), Some("totp"));
    assert_eq!(app.extra_str(EXTRA_REQUESTED_METHOD), None);
    server.verify().await;
}

#[tokio::test]
async fn an_existing_user_is_found_in_the_streamed_listing_then_cached() {
    let server = MockServer::start().await;
    // Registered by another client: 409, then one listing, in which it is not first.
    user_exists().mount(&server).await;
    expect("GET", &users_path())
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "total": 3,
            "users": [
                {"id": "someone-else", "id_in_service": "+37250000000", "ctime": "2017-09-15T06:44:15.274438"},
                user_json(),
                {"id": "a-third", "id_in_service": null}
            ]
        })))
        .expect(1)
        .mount(&server)
        .await;
    expect_json("POST", &auth_path(), json!({"method": "sms"}))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({"method": "sms"})))
        .expect(2)
        .mount(&server)
        .await;
    let verifier = verifier(&server);
    for _ in 0..2 {
        let handle = verifier.start(&StartRequest::sms(phone())).await.unwrap();
        assert_eq!(handle.reference, UID);
    }
    server.verify().await;
}

#[tokio::test]
async fn a_deleted_cached_user_is_registered_again() {
    let server = MockServer::start().await;
    let new_uid = "f0e1d2c3-b4a5-4968-8776-655443322110";
    no_listing().mount(&server).await;
    expect("POST", &users_path())
        .respond_with(ResponseTemplate::new(201).set_body_json(user_json()))
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    expect("POST", &users_path())
        .respond_with(
            ResponseTemplate::new(201)
                .set_body_json(json!({"id": new_uid, "id_in_service": PHONE})),
        )
        .expect(1)
        .mount(&server)
        .await;
    expect("POST", &auth_path())
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({"method": "sms"})))
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    // Deleted meanwhile: its authentication answers 404, and nothing was sent.
    expect("POST", &auth_path())
        .respond_with(
            ResponseTemplate::new(404).set_body_json(json!({"message": "User not found"})),
        )
        .expect(1)
        .mount(&server)
        .await;
    expect_json(
        "POST",
        &format!("/v1/service/service/{SID}/users/{new_uid}/auth"),
        json!({"method": "sms"}),
    )
    .respond_with(ResponseTemplate::new(201).set_body_json(json!({"method": "sms"})))
    .expect(2)
    .mount(&server)
    .await;
    let verifier = verifier(&server);
    let first = verifier.start(&StartRequest::sms(phone())).await.unwrap();
    assert_eq!(first.reference, UID);
    let second = verifier.start(&StartRequest::sms(phone())).await.unwrap();
    assert_eq!(second.reference, new_uid);
    // The new id is the cached one now.
    let third = verifier.start(&StartRequest::sms(phone())).await.unwrap();
    assert_eq!(third.reference, new_uid);
    server.verify().await;
}

#[tokio::test]
async fn a_listing_past_the_response_cap_still_finds_the_user() {
    let server = MockServer::start().await;
    // 20,000 users: about 1.5 MiB, over the 1 MiB cap of buffered answers; ours is last.
    let mut users: Vec<Value> = (0..20_000)
        .map(|i| {
            json!({
                "id": format!("00000000-0000-4000-8000-{i:012}"),
                "id_in_service": format!("+3725{i:07}"),
                "ctime": "2017-09-15T06:44:15.274438"
            })
        })
        .collect();
    users.push(user_json());
    let body = serde_json::to_vec(&json!({"users": users, "total": users.len()})).unwrap();
    assert!(body.len() > 1024 * 1024);
    user_exists().mount(&server).await;
    expect("GET", &users_path())
        .respond_with(ResponseTemplate::new(200).set_body_raw(body, "application/json"))
        .expect(2)
        .mount(&server)
        .await;
    expect("POST", &auth_path())
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({"method": "sms"})))
        .expect(1)
        .mount(&server)
        .await;
    let verifier = verifier(&server);
    // The buffered listing refuses it ...
    let err = verifier.client().list_users(SID).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Decode, "{err}");
    // ... the streamed lookup does not.
    let handle = verifier.start(&StartRequest::sms(phone())).await.unwrap();
    assert_eq!(handle.reference, UID);
    server.verify().await;
}

/// Starts a new phone on a server that answers its registration with `registration` and
/// lists `listed` users when asked, `reads` times; it must not start an authentication.
async fn start_after_a_failed_registration(
    registration: ResponseTemplate,
    listed: Vec<Value>,
    reads: u64,
) -> (Verigator, phone_verify_core::Error) {
    let server = MockServer::start().await;
    expect("GET", &users_path())
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"users": listed})))
        .expect(reads)
        .mount(&server)
        .await;
    expect("POST", &users_path())
        .respond_with(registration)
        .expect(1)
        .mount(&server)
        .await;
    expect("POST", &auth_path())
        .respond_with(ResponseTemplate::new(201))
        .expect(0)
        .mount(&server)
        .await;
    let verifier = verifier(&server);
    let err = verifier
        .start(&StartRequest::sms(phone()))
        .await
        .unwrap_err();
    server.verify().await;
    (verifier, err)
}

#[tokio::test]
async fn a_conflict_without_a_listed_user_sends_nothing() {
    let (_, err) = start_after_a_failed_registration(ResponseTemplate::new(409), vec![], 1).await;
    assert_eq!(err.kind(), ErrorKind::Conflict);
    assert_eq!(
        err.provider().map(phone_verify_core::ProviderId::as_str),
        Some("verigator")
    );
}

#[tokio::test]
async fn only_a_conflict_sends_the_registration_to_the_user_list() {
    // The list holds the user: reading it after any other error would hide that error.
    let forbidden = ResponseTemplate::new(403).set_body_json(json!({"message": "Forbidden"}));
    let (verifier, err) = start_after_a_failed_registration(forbidden, vec![user_json()], 0).await;
    assert_eq!(err.kind(), ErrorKind::Unauthorized);
    assert_eq!(err.provider_message(), Some("Forbidden"));
    assert!(
        format!("{verifier:?}").contains("cached_users: 0"),
        "{verifier:?}"
    );
}

#[tokio::test]
async fn streamed_lookup_failures_are_typed() {
    let server = MockServer::start().await;
    let client = builder(&server)
        .retry(RetryPolicy::never())
        .build_client()
        .unwrap();
    // An error status is read and mapped like any other answer.
    expect("GET", &users_path())
        .respond_with(
            ResponseTemplate::new(401).set_body_json(json!({"message": "Wrong credentials"})),
        )
        .expect(1)
        .mount(&server)
        .await;
    let err = client.find_user(SID, PHONE).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unauthorized);
    assert_eq!(err.provider_message(), Some("Wrong credentials"));
    server.reset().await;
    // Malformed lists are Decode errors that quote no number.
    for body in [
        r#"{"users":"+37251234567"}"#,
        r#"{"users":[{"id":"u-1","id_in_service":"+37251234567"},"#,
        "<html>",
    ] {
        expect("GET", &users_path())
            .respond_with(ResponseTemplate::new(200).set_body_string(body))
            .expect(1)
            .mount(&server)
            .await;
        let err = client.find_user(SID, "+37259999999").await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Decode, "{body}: {err}");
        assert!(!err.to_string().contains("51234567"), "{err}");
        server.reset().await;
    }
    // Bad input is refused before any request.
    assert_eq!(
        client.find_user(SID, "").await.unwrap_err().kind(),
        ErrorKind::InvalidInput
    );
    assert_eq!(
        client.find_user("a/b", PHONE).await.unwrap_err().kind(),
        ErrorKind::InvalidInput
    );
}

#[tokio::test]
async fn custom_id_schemes_name_the_user() {
    let server = MockServer::start().await;
    expect_json(
        "POST",
        &users_path(),
        json!({"id_in_service": "tel-37251234567", "phone_number": PHONE}),
    )
    .respond_with(ResponseTemplate::new(409))
    .expect(1)
    .mount(&server)
    .await;
    expect("GET", &users_path())
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"users": [{"id": UID, "id_in_service": "tel-37251234567"}]})),
        )
        .expect(1)
        .mount(&server)
        .await;
    expect_json("POST", &auth_path(), json!({"method": "sms"}))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"method": "sms"})))
        .expect(1)
        .mount(&server)
        .await;
    let verifier = builder(&server)
        .id_scheme(IdScheme::custom(|p| format!("tel-{}", &p.e164()[1..])))
        .build()
        .unwrap();
    assert_eq!(
        verifier.id_scheme().id_for(&phone()).unwrap(),
        "tel-37251234567"
    );
    let handle = verifier.start(&StartRequest::sms(phone())).await.unwrap();
    assert_eq!(handle.reference, UID);
}

/// The nine endpoints, to run the same test against each.
#[derive(Clone, Copy, Debug)]
enum Endpoint {
    CreateService,
    GetService,
    DeleteService,
    CreateUser,
    ListUsers,
    GetUser,
    DeleteUser,
    StartAuth,
    VerifyPin,
}

impl Endpoint {
    const ALL: [Self; 9] = [
        Self::CreateService,
        Self::GetService,
        Self::DeleteService,
        Self::CreateUser,
        Self::ListUsers,
        Self::GetUser,
        Self::DeleteUser,
        Self::StartAuth,
        Self::VerifyPin,
    ];

    /// The kind of an unreadable 2xx answer: Verigator took the request, so a send's and a
    /// PIN check's effect is unknown; any other request's answer is just undecodable.
    fn unreadable_kind(self) -> ErrorKind {
        match self {
            Self::StartAuth => ErrorKind::MaybeSent,
            Self::VerifyPin => ErrorKind::OutcomeUnknown,
            _ => ErrorKind::Decode,
        }
    }

    fn method(self) -> &'static str {
        match self {
            Self::CreateService | Self::CreateUser | Self::StartAuth => "POST",
            Self::GetService | Self::ListUsers | Self::GetUser => "GET",
            Self::DeleteService | Self::DeleteUser => "DELETE",
            Self::VerifyPin => "PUT",
        }
    }

    fn path(self) -> String {
        match self {
            Self::CreateService => "/v1/service/service".to_owned(),
            Self::GetService | Self::DeleteService => service_path(),
            Self::CreateUser | Self::ListUsers => users_path(),
            Self::GetUser | Self::DeleteUser => user_path(),
            Self::StartAuth | Self::VerifyPin => auth_path(),
        }
    }

    fn answers_json(self) -> bool {
        !matches!(self, Self::DeleteService | Self::DeleteUser)
    }

    async fn call(self, client: &VerigatorClient) -> Result<()> {
        let code = Code::new("123456")?;
        match self {
            Self::CreateService => client.create_service("shop.test", "Shop").await.map(drop),
            Self::GetService => client.get_service(SID).await.map(drop),
            Self::DeleteService => client.delete_service(SID).await,
            Self::CreateUser => client.create_user(SID, PHONE, &phone()).await.map(drop),
            Self::ListUsers => client.list_users(SID).await.map(drop),
            Self::GetUser => client.get_user(SID, UID).await.map(drop),
            Self::DeleteUser => client.delete_user(SID, UID).await,
            Self::StartAuth => client.start_auth(SID, UID, AuthMethod::Sms).await.map(drop),
            Self::VerifyPin => client.verify_pin(SID, UID, &code, None).await.map(drop),
        }
    }
}

#[tokio::test]
async fn every_status_is_a_typed_error() {
    let server = MockServer::start().await;
    let client = builder(&server)
        .retry(RetryPolicy::never())
        .build_client()
        .unwrap();
    let statuses = [
        400, 401, 403, 404, 409, 422, 500, 429, 502, 503, 504, 418, 301,
    ];
    for status in statuses {
        for endpoint in Endpoint::ALL {
            let send = matches!(endpoint, Endpoint::StartAuth);
            let consume = matches!(endpoint, Endpoint::VerifyPin);
            let expected = match status {
                400 | 422 => ErrorKind::InvalidInput,
                401 | 403 => ErrorKind::Unauthorized,
                404 => ErrorKind::NotFound,
                409 => ErrorKind::Conflict,
                429 => ErrorKind::RateLimited,
                // A plain 503 may come from a proxy that forwarded the request.
                500 | 502 | 503 | 504 if send => ErrorKind::MaybeSent,
                500 | 502 | 503 | 504 if consume => ErrorKind::OutcomeUnknown,
                500 | 502 | 503 | 504 => ErrorKind::ProviderUnavailable,
                _ => ErrorKind::Provider,
            };
            let documented = matches!(status, 400 | 401 | 403 | 404 | 409 | 422 | 500);
            let body = if status == 403 {
                ResponseTemplate::new(status).set_body_string("")
            } else {
                ResponseTemplate::new(status).set_body_json(json!({"message": "Verigator says no"}))
            };
            expect(endpoint.method(), &endpoint.path())
                .respond_with(body)
                .expect(1)
                .mount(&server)
                .await;
            let err = endpoint.call(&client).await.unwrap_err();
            let what = format!("{endpoint:?} answered {status}: {err}");
            assert_eq!(err.kind(), expected, "{what}");
            assert_eq!(err.http_status(), Some(status), "{what}");
            assert_eq!(
                err.provider().map(phone_verify_core::ProviderId::as_str),
                Some("verigator"),
                "{what}"
            );
            let code = status.to_string();
            assert_eq!(
                err.provider_code(),
                documented.then_some(code.as_str()),
                "{what}"
            );
            if status == 403 {
                assert!(err.message().contains("Forbidden request"), "{what}");
            } else {
                assert_eq!(err.provider_message(), Some("Verigator says no"), "{what}");
            }
            server.verify().await;
            server.reset().await;
        }
    }
}

#[tokio::test]
async fn checks_turn_refusals_into_outcomes() {
    let server = MockServer::start().await;
    let verifier = verifier(&server);
    let handle = Verification::new(verifier.provider(), UID, Channel::Sms)
        .with_phone(phone())
        .with_extra(EXTRA_SERVICE_ID, SID)
        .with_extra(EXTRA_USER_ID, UID)
        .with_extra(EXTRA_METHOD, "sms");
    let code = Code::new("123456").unwrap();
    let cases = [
        (
            json!({"verified": false, "method": "sms", "status": {"throttled": true, "expired": false, "invalid": false, "result": "THROTTLED"}}),
            RejectReason::TooManyAttempts,
            Some("throttled"),
        ),
        (
            json!({"verified": false, "status": {"throttled": false, "expired": true, "invalid": false, "result": "EXPIRED"}}),
            RejectReason::Expired,
            Some("expired"),
        ),
        (
            json!({"verified": false, "status": {"invalid": true, "result": "INVALID"}}),
            RejectReason::WrongCode,
            Some("invalid"),
        ),
        // No detail: a wrong PIN, without a code Verigator never sent.
        (json!({"verified": false}), RejectReason::WrongCode, None),
        (
            json!({"verified": false, "status": null}),
            RejectReason::WrongCode,
            None,
        ),
    ];
    for (body, reason, detail) in cases {
        expect("PUT", &auth_path())
            .respond_with(ResponseTemplate::new(200).set_body_json(body))
            .expect(1)
            .mount(&server)
            .await;
        let outcome = verifier.check_code(&handle, &code).await.unwrap();
        let rejection = outcome.rejection().unwrap();
        assert_eq!(rejection.reason, reason, "{detail:?}");
        assert_eq!(rejection.provider_code.as_deref(), detail);
        assert!(rejection.message.is_some());
        server.verify().await;
        server.reset().await;
    }

    expect("PUT", &auth_path())
        .respond_with(
            ResponseTemplate::new(404)
                .set_body_json(json!({"message": "Verifitacion with auth_id was not found"})),
        )
        .expect(1)
        .mount(&server)
        .await;
    let outcome = verifier.check_code(&handle, &code).await.unwrap();
    let rejection = outcome.rejection().unwrap();
    assert_eq!(rejection.reason, RejectReason::NotFound);
    assert_eq!(rejection.provider_code.as_deref(), Some("404"));
    assert_eq!(
        rejection.message.as_deref(),
        Some("Verifitacion with auth_id was not found")
    );
    server.reset().await;

    // Failures of the request itself stay errors.
    expect("PUT", &auth_path())
        .respond_with(ResponseTemplate::new(401))
        .mount(&server)
        .await;
    let err = verifier.check_code(&handle, &code).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unauthorized);
}

#[tokio::test]
async fn a_handle_is_checked_where_it_says_by_a_fresh_client() {
    let server = MockServer::start().await;
    let other_service = "9f8e7d6c-0000-4000-8000-000000000001";
    expect_json(
        "PUT",
        &format!("/v1/service/service/{other_service}/users/{UID}/auth"),
        json!({"token": "123456", "method": "totp"}),
    )
    .respond_with(
        ResponseTemplate::new(200).set_body_json(json!({"verified": true, "method": "totp"})),
    )
    .expect(1)
    .mount(&server)
    .await;
    let handle = Verification::new(phone_verify_verigator::PROVIDER, UID, Channel::Totp)
        .with_phone(phone())
        .with_extra(EXTRA_SERVICE_ID, other_service)
        .with_extra(EXTRA_METHOD, "totp");
    let json = handle.to_json().unwrap();
    let fresh = verifier(&server);
    let parsed = Verification::from_json(&json).unwrap();
    let outcome = fresh
        .check_code(&parsed, &Code::new("123456").unwrap())
        .await
        .unwrap();
    let outcome = outcome.verified().unwrap();
    assert_eq!(outcome.channel, Channel::Totp);
    assert_eq!(outcome.phone, Some(phone()));
}

#[tokio::test]
async fn sends_are_never_retried_reads_are() {
    let server = MockServer::start().await;
    let verifier = builder(&server)
        .timeouts(Timeouts::default().with_attempt(Duration::from_millis(300)))
        .build()
        .unwrap();
    let client = verifier.client();
    for (status, retry_after, kind) in [
        // Refused before processing: no PIN went out.
        (503, Some("0"), ErrorKind::ProviderUnavailable),
        // A plain 503 may come from a proxy that forwarded the send.
        (503, None, ErrorKind::MaybeSent),
        (500, None, ErrorKind::MaybeSent),
        (502, None, ErrorKind::MaybeSent),
    ] {
        let mut answer = ResponseTemplate::new(status);
        if let Some(wait) = retry_after {
            answer = answer.insert_header("retry-after", wait);
        }
        expect("POST", &auth_path())
            .respond_with(answer)
            .expect(1)
            .mount(&server)
            .await;
        let err = client
            .start_auth(SID, UID, AuthMethod::Sms)
            .await
            .unwrap_err();
        assert_eq!(err.kind(), kind, "{status} {retry_after:?}");
        server.verify().await;
        server.reset().await;
    }

    // A send that times out may have gone out: MaybeSent, and still one request.
    expect("POST", &auth_path())
        .respond_with(ResponseTemplate::new(201).set_delay(Duration::from_secs(2)))
        .expect(1)
        .mount(&server)
        .await;
    let err = client
        .start_auth(SID, UID, AuthMethod::Sms)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::MaybeSent, "{err}");
    server.verify().await;
    server.reset().await;

    // Writes are not retried either.
    expect("POST", &users_path())
        .respond_with(ResponseTemplate::new(503))
        .expect(1)
        .mount(&server)
        .await;
    let err = client.create_user(SID, PHONE, &phone()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ProviderUnavailable);
    server.verify().await;
    server.reset().await;

    // A PIN check uses the PIN up: retried only when Verigator refused it unprocessed (503
    // with Retry-After) ...
    expect("PUT", &auth_path())
        .respond_with(ResponseTemplate::new(503).insert_header("retry-after", "0"))
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    expect("PUT", &auth_path())
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"verified": true})))
        .expect(1)
        .mount(&server)
        .await;
    let code = Code::new("123456").unwrap();
    let pin = client.verify_pin(SID, UID, &code, None).await.unwrap();
    assert!(pin.verified);
    server.verify().await;
    server.reset().await;
}

#[tokio::test]
async fn a_lost_pin_check_is_outcome_unknown_never_rejected() {
    let server = MockServer::start().await;
    let verifier = builder(&server)
        .timeouts(Timeouts::default().with_attempt(Duration::from_millis(300)))
        .build()
        .unwrap();
    let handle = Verification::new(verifier.provider(), UID, Channel::Sms)
        .with_phone(phone())
        .with_extra(EXTRA_SERVICE_ID, SID)
        .with_extra(EXTRA_USER_ID, UID)
        .with_extra(EXTRA_METHOD, "sms");
    let code = Code::new("123456").unwrap();
    // A server error or a lost answer: the PIN may have been used; one request, no retry.
    let answers = [
        ResponseTemplate::new(500).set_body_json(json!({"message": "Internal server error"})),
        ResponseTemplate::new(502),
        ResponseTemplate::new(504),
        // A 503 without Retry-After may come from a proxy that forwarded the check.
        ResponseTemplate::new(503),
        ResponseTemplate::new(200)
            .set_body_json(json!({"verified": true}))
            .set_delay(Duration::from_secs(2)),
        // Verified, with a refusal's detail: it contradicts itself.
        ResponseTemplate::new(200).set_body_json(
            json!({"verified": true, "status": {"expired": true, "result": "EXPIRED"}}),
        ),
        ResponseTemplate::new(200)
            .set_body_json(json!({"verified": true, "status": {"result": "THROTTLED"}})),
        // The same when other fields of the answer cannot be read: the detail still counts.
        ResponseTemplate::new(200).set_body_json(json!({
            "verified": true,
            "method": "push",
            "status": {"throttled": "perhaps", "expired": [], "result": "INVALID"}
        })),
        ResponseTemplate::new(200).set_body_json(
            json!({"verified": true, "status": {"invalid": true, "result": {"code": 1}}}),
        ),
    ];
    for answer in answers {
        expect_json(
            "PUT",
            &auth_path(),
            json!({"token": "123456", "method": "sms"}),
        )
        .respond_with(answer)
        .expect(1)
        .mount(&server)
        .await;
        let err = verifier.check_code(&handle, &code).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::OutcomeUnknown, "{err}");
        assert!(!err.is_retryable());
        assert_eq!(
            err.provider().map(phone_verify_core::ProviderId::as_str),
            Some("verigator")
        );
        server.verify().await;
        server.reset().await;
    }
}

#[tokio::test]
async fn hostile_answers_are_typed_errors() {
    let server = MockServer::start().await;
    let client = client(&server);
    let nested = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let huge = format!("{{\"id\":\"{}\"}}", "a".repeat(2 * 1024 * 1024));
    let path_escape = json!({
        "id": "../../service/service/other",
        "users": "everyone",
        "method": "carrier-pigeon",
        "verified": "perhaps"
    })
    .to_string();
    let bodies: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "not JSON",
            b"Service temporarily unavailable".to_vec(),
            "text/plain",
        ),
        (
            "HTML",
            b"<html><body>We'll be right back</body></html>".to_vec(),
            "text/html",
        ),
        (
            "truncated",
            br#"{"id":"abc","users":[{"id":"#.to_vec(),
            "application/json",
        ),
        ("a number", b"42".to_vec(), "application/json"),
        ("null", b"null".to_vec(), "application/json"),
        ("a string", br#""ok""#.to_vec(), "application/json"),
        ("a two-item list", b"[1,2]".to_vec(), "application/json"),
        (
            "not UTF-8",
            vec![0xff, 0xfe, 0x00, 0x7b],
            "application/json",
        ),
        ("deep nesting", nested.into_bytes(), "application/json"),
        ("over the size cap", huge.into_bytes(), "application/json"),
        (
            "wrong field types",
            path_escape.into_bytes(),
            "application/json",
        ),
    ];
    for (what, body, content_type) in &bodies {
        for endpoint in Endpoint::ALL.into_iter().filter(|e| e.answers_json()) {
            expect(endpoint.method(), &endpoint.path())
                .respond_with(ResponseTemplate::new(200).set_body_raw(body.clone(), content_type))
                .expect(1)
                .mount(&server)
                .await;
            let result = endpoint.call(&client).await;
            // A start needs nothing from its answer: an object whose fields are all
            // unreadable is an authentication started, its method unknown.
            if *what == "wrong field types" && matches!(endpoint, Endpoint::StartAuth) {
                result.unwrap();
                server.verify().await;
                server.reset().await;
                continue;
            }
            let Err(err) = result else {
                panic!("{endpoint:?} accepted {what}");
            };
            assert_eq!(
                err.kind(),
                endpoint.unreadable_kind(),
                "{endpoint:?} with {what}: {err}"
            );
            assert_eq!(err.http_status(), Some(200), "{endpoint:?} with {what}");
            server.verify().await;
            server.reset().await;
        }
    }

    // A hostile user list stops a start before anything is sent.
    let verifier = verifier(&server);
    user_exists().mount(&server).await;
    expect("GET", &users_path())
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"users": [{"id": "a/../../b", "id_in_service": PHONE}]})),
        )
        .expect(1)
        .mount(&server)
        .await;
    expect("POST", &auth_path())
        .respond_with(ResponseTemplate::new(201))
        .expect(0)
        .mount(&server)
        .await;
    let err = verifier
        .start(&StartRequest::sms(phone()))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Decode);
}

#[tokio::test]
async fn unreadable_informational_fields_of_a_pin_check_count_as_absent() {
    let server = MockServer::start().await;
    let verifier = verifier(&server);
    let handle = Verification::new(verifier.provider(), UID, Channel::Sms)
        .with_phone(phone())
        .with_extra(EXTRA_SERVICE_ID, SID)
        .with_extra(EXTRA_USER_ID, UID)
        .with_extra(EXTRA_METHOD, "sms");
    let code = Code::new("123456").unwrap();
    // An unreadable method does not matter: `verified` decides, with a status that can be read.
    let accepted = [
        json!({"verified": true, "method": "push"}),
        json!({"verified": true, "method": 1}),
        json!({"verified": true, "method": ["sms"]}),
        json!({"verified": "true", "method": {"name": "totp"}, "status": null}),
        json!({"verified": true, "status": {"invalid": false, "expired": null, "result": "OK"}}),
    ];
    for body in accepted {
        expect_json(
            "PUT",
            &auth_path(),
            json!({"token": "123456", "method": "sms"}),
        )
        .respond_with(ResponseTemplate::new(200).set_body_json(body.clone()))
        .expect(1)
        .mount(&server)
        .await;
        let outcome = verifier.check_code(&handle, &code).await;
        let done = match &outcome {
            Ok(outcome) => outcome.verified(),
            Err(_) => None,
        };
        let done = done.unwrap_or_else(|| panic!("{body} gave {outcome:?}"));
        // The method the handle holds: the answer's cannot be read.
        assert_eq!(done.channel, Channel::Sms, "{body}");
        assert_eq!(done.phone, Some(phone()), "{body}");
        server.verify().await;
        server.reset().await;
    }
    // Verified beside a status that cannot be read: it may be a refusal in a shape this crate
    // does not know, so the PIN's fate is unknown (never Verified).
    for body in [
        json!({"verified": true, "status": "OK"}),
        json!({"verified": true, "status": "INVALID"}),
        json!({"verified": true, "status": ["invalid"]}),
        // A list is not the fields in order.
        json!({"verified": true, "status": [false, true, false, "EXPIRED"]}),
        json!({"verified": true, "status": 0}),
        json!({"verified": true, "status": true}),
        json!({"verified": "true", "method": "push", "status": "none"}),
        json!({"verified": true, "status": {"invalid": "perhaps", "result": null}}),
        json!({"verified": true, "status": {"invalid": "yes"}}),
        json!({"verified": true, "status": {"expired": {}, "result": "OK"}}),
        json!({"verified": true, "status": {"result": ["INVALID"]}}),
    ] {
        expect("PUT", &auth_path())
            .respond_with(ResponseTemplate::new(200).set_body_json(body.clone()))
            .expect(1)
            .mount(&server)
            .await;
        let err = verifier.check_code(&handle, &code).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::OutcomeUnknown, "{body}: {err}");
        server.verify().await;
        server.reset().await;
    }
    // Refused, with a detail that cannot be read: a wrong PIN, as without a detail.
    let refused = [
        json!({"verified": false, "method": "push", "status": "EXPIRED"}),
        json!({"verified": false, "status": [true]}),
        json!({"verified": false, "status": {"expired": "perhaps", "result": 3}}),
    ];
    for body in refused {
        expect("PUT", &auth_path())
            .respond_with(ResponseTemplate::new(200).set_body_json(body.clone()))
            .expect(1)
            .mount(&server)
            .await;
        let outcome = verifier.check_code(&handle, &code).await.unwrap();
        let rejection = outcome.rejection().unwrap_or_else(|| panic!("{body}"));
        assert_eq!(rejection.reason, RejectReason::WrongCode, "{body}");
        assert_eq!(rejection.provider_code, None, "{body}");
        server.verify().await;
        server.reset().await;
    }
    // A readable detail next to unreadable fields still decides.
    expect("PUT", &auth_path())
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"verified": false, "method": 2, "status": {"invalid": "x", "result": "EXPIRED"}}),
        ))
        .expect(1)
        .mount(&server)
        .await;
    let outcome = verifier.check_code(&handle, &code).await.unwrap();
    let rejection = outcome.rejection().unwrap();
    assert_eq!(rejection.reason, RejectReason::Expired);
    assert_eq!(rejection.provider_code.as_deref(), Some("expired"));
    server.verify().await;
    server.reset().await;
    // `verified` itself is never guessed: unreadable, the PIN's fate is unknown.
    for body in [
        json!({"verified": "perhaps", "method": "sms"}),
        json!({"method": "sms"}),
    ] {
        expect("PUT", &auth_path())
            .respond_with(ResponseTemplate::new(200).set_body_json(body.clone()))
            .expect(1)
            .mount(&server)
            .await;
        let err = verifier.check_code(&handle, &code).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::OutcomeUnknown, "{body}: {err}");
        server.verify().await;
        server.reset().await;
    }
}

#[tokio::test]
async fn a_start_answer_with_an_unknown_method_gives_a_checkable_handle() {
    let server = MockServer::start().await;
    expect_json(
        "POST",
        &users_path(),
        json!({"id_in_service": PHONE, "phone_number": PHONE}),
    )
    .respond_with(ResponseTemplate::new(201).set_body_json(user_json()))
    .expect(1)
    .mount(&server)
    .await;
    expect_json("POST", &auth_path(), json!({"method": "sms"}))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({"method": "push"})))
        .expect(1)
        .mount(&server)
        .await;
    expect_json("PUT", &auth_path(), json!({"token": "123456"}))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"verified": true})))
        .expect(1)
        .mount(&server)
        .await;
    let verifier = verifier(&server);
    let handle = verifier.start(&StartRequest::sms(phone())).await.unwrap();
    assert_eq!(handle.reference.as_str(), UID);
    assert_eq!(handle.channel, Channel::Sms);
    assert_eq!(handle.extra_str(EXTRA_SERVICE_ID), Some(SID));
    assert_eq!(handle.extra_str(EXTRA_USER_ID), Some(UID));
    assert_eq!(handle.extra_str(EXTRA_METHOD), None);
    assert_eq!(handle.extra_str(EXTRA_REQUESTED_METHOD), Some("sms"));
    let handle = Verification::from_json(&handle.to_json().unwrap()).unwrap();
    let outcome = verifier
        .check_code(&handle, &Code::new("123456").unwrap())
        .await
        .unwrap();
    assert_eq!(outcome.verified().unwrap().channel, Channel::Sms);
    server.verify().await;
    // The typed client: the method is absent.
    expect("POST", &auth_path())
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({"method": "push"})))
        .mount(&server)
        .await;
    let started = client(&server)
        .start_auth(SID, UID, AuthMethod::Totp)
        .await
        .unwrap();
    assert_eq!(started.method, None);
}

#[tokio::test]
async fn a_bodiless_success_is_accepted_where_nothing_is_needed() {
    let server = MockServer::start().await;
    expect("POST", &auth_path())
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;
    let started = client(&server)
        .start_auth(SID, UID, AuthMethod::Sms)
        .await
        .unwrap();
    assert_eq!(started.method, None);
}

#[tokio::test]
async fn input_is_checked_before_any_request() {
    let server = MockServer::start().await;
    let client = client(&server);
    let verifier = verifier(&server);
    let code = Code::new("123456").unwrap();
    let refusals = [
        client.get_service("").await.map(drop),
        client.get_service("../admin").await.map(drop),
        client.delete_service("a b").await,
        client.list_users("s?x=1").await.map(drop),
        client.get_user(SID, "u#1").await.map(drop),
        client.delete_user(SID, "").await,
        client.create_user(SID, "", &phone()).await.map(drop),
        client.create_user(SID, "a\nb", &phone()).await.map(drop),
        client.create_service("", "name").await.map(drop),
        client.create_service("shop.test", "\u{7}").await.map(drop),
        client
            .start_auth(SID, "../x", AuthMethod::Sms)
            .await
            .map(drop),
        client.verify_pin("s/1", UID, &code, None).await.map(drop),
        verifier
            .start(&StartRequest::otp(Channel::Voice, phone()))
            .await
            .map(drop),
        verifier
            .start(&StartRequest::new(Channel::Sms, None))
            .await
            .map(drop),
        verifier
            .check(
                &Verification::new(verifier.provider(), UID, Channel::Sms),
                &phone_verify_core::CheckRequest::code(code.clone()),
            )
            .await
            .map(drop),
        verifier
            .check(
                &Verification::new(
                    phone_verify_core::ProviderId::new_static("verifykit"),
                    UID,
                    Channel::Sms,
                )
                .with_extra(EXTRA_SERVICE_ID, SID),
                &phone_verify_core::CheckRequest::code(code.clone()),
            )
            .await
            .map(drop),
        verifier
            .check(
                &Verification::new(verifier.provider(), UID, Channel::Sms)
                    .with_extra(EXTRA_SERVICE_ID, SID),
                &phone_verify_core::CheckRequest::poll(),
            )
            .await
            .map(drop),
    ];
    for (i, refusal) in refusals.into_iter().enumerate() {
        let err = refusal.unwrap_err();
        assert!(
            matches!(err.kind(), ErrorKind::InvalidInput | ErrorKind::Unsupported),
            "refusal {i}: {err}"
        );
    }
    assert!(server.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn a_changed_config_is_checked_again_before_any_request() {
    let server = MockServer::start().await;
    let config = builder(&server).config().unwrap();
    VerigatorClient::new(config.clone()).unwrap();
    // The fields are public: what is set after the builder's checks is checked again.
    let mut colon = config.clone();
    colon.username = "canary-user:x".into();
    let mut empty = config.clone();
    empty.password = "".into();
    let mut control = config.clone();
    control.password = "canary\npass".into();
    let mut escaping = config.clone();
    escaping.service_id = Some("../other".into());
    let mut forever = config;
    forever.pin_validity = Some(Duration::ZERO);
    for config in [colon, empty, control, escaping, forever] {
        let err = VerigatorClient::new(config).map(drop).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
        assert!(!err.to_string().contains("canary"), "{err}");
    }
    assert!(server.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn a_404_verigator_did_not_write_is_not_a_rejection() {
    let server = MockServer::start().await;
    let verifier = verifier(&server);
    let handle = Verification::new(verifier.provider(), UID, Channel::Sms)
        .with_extra(EXTRA_SERVICE_ID, SID)
        .with_extra(EXTRA_METHOD, "sms");
    let code = Code::new("123456").unwrap();
    // A proxy's page (or a base URL without /v1): not "no pending authentication".
    expect("PUT", &auth_path())
        .respond_with(
            ResponseTemplate::new(404).set_body_raw("<html>Not Found</html>", "text/html"),
        )
        .expect(1)
        .mount(&server)
        .await;
    let err = verifier.check_code(&handle, &code).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound, "{err}");
    assert_eq!(err.http_status(), Some(404));
    assert_eq!(err.provider_code(), None);
    server.verify().await;
    server.reset().await;
    // Verigator's own 404 has a JSON object or no body: nothing pending.
    for body in [
        ResponseTemplate::new(404),
        ResponseTemplate::new(404).set_body_json(json!({})),
    ] {
        expect("PUT", &auth_path())
            .respond_with(body)
            .expect(1)
            .mount(&server)
            .await;
        let outcome = verifier.check_code(&handle, &code).await.unwrap();
        assert_eq!(outcome.rejection().unwrap().reason, RejectReason::NotFound);
        server.verify().await;
        server.reset().await;
    }
}

#[tokio::test]
async fn an_odd_user_in_the_listing_does_not_hide_the_others() {
    let server = MockServer::start().await;
    expect("GET", &users_path())
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"users": [
            {"id": "u-1", "id_in_service": "+1", "ctime": "garbage"},
            {"id": "../u-0", "id_in_service": "+0"},
            {"id": "u-2", "id_in_service": PHONE}
        ]})))
        .expect(1)
        .mount(&server)
        .await;
    let found = client(&server).find_user(SID, PHONE).await.unwrap();
    assert_eq!(found.map(|user| user.id), Some("u-2".to_owned()));
    server.verify().await;
}

/// A server that answers every request `200` with a `Content-Length` of twice `body`, sends
/// `body` and closes the connection: the body is cut short after `body`.
async fn cut_short(body: &'static str) -> VerigatorClient {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/v1", listener.local_addr().unwrap());
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buf = vec![0u8; 8192];
                let mut read = 0;
                while !buf[..read].windows(4).any(|w| w == b"\r\n\r\n") {
                    match stream.read(&mut buf[read..]).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => read += n,
                    }
                }
                let head = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
                    body.len() * 2
                );
                let _ = stream.write_all(head.as_bytes()).await;
                let _ = stream.write_all(body.as_bytes()).await;
                let _ = stream.flush().await;
            });
        }
    });
    VerigatorBuilder::new(USERNAME, PASSWORD)
        .base_url(&url)
        .retry(RetryPolicy::never())
        .build_client()
        .unwrap()
}

#[tokio::test]
async fn a_user_found_before_the_listing_breaks_off_is_found() {
    let listed = r#"{"users":[{"id":"u-1","id_in_service":"+37250000000"},{"id":"u-2","id_in_service":"+37251234567"},"#;
    let client = cut_short(listed).await;
    let found = client.find_user(SID, PHONE).await.unwrap();
    assert_eq!(found.map(|user| user.id), Some("u-2".to_owned()));
    // A user not found before the break: the read failure, not a decode error.
    let err = client.find_user(SID, "+37259999999").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Transport, "{err}");
}

/// A server that answers every request `200` at once with the head and the start of a user
/// list holding [`PHONE`]'s user, and holds the rest of the body until `release` turns true;
/// `received` counts the requests it read. Its client (with `http`'s settings, no retries)
/// gives each call a minute, so the scans outlast the test.
async fn held_listing(
    http: HttpConfig,
) -> (
    VerigatorClient,
    Arc<AtomicUsize>,
    tokio::sync::watch::Sender<bool>,
) {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/v1", listener.local_addr().unwrap());
    let received = Arc::new(AtomicUsize::new(0));
    let (release, released) = tokio::sync::watch::channel(false);
    let counter = Arc::clone(&received);
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let counter = Arc::clone(&counter);
            let mut released = released.clone();
            tokio::spawn(async move {
                let mut buf = vec![0u8; 8192];
                let mut read = 0;
                while !buf[..read].windows(4).any(|w| w == b"\r\n\r\n") {
                    match stream.read(&mut buf[read..]).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => read += n,
                    }
                }
                let body = json!({"users": [{"id": UID, "id_in_service": PHONE}]}).to_string();
                let (first, rest) = body.split_at(body.len() / 2);
                let head = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{first}",
                    body.len()
                );
                if stream.write_all(head.as_bytes()).await.is_err() || stream.flush().await.is_err()
                {
                    return;
                }
                counter.fetch_add(1, Ordering::SeqCst);
                if released.wait_for(|go| *go).await.is_err() {
                    return;
                }
                let _ = stream.write_all(rest.as_bytes()).await;
                let _ = stream.flush().await;
            });
        }
    });
    let minute = Duration::from_secs(60);
    let client = VerigatorBuilder::new(USERNAME, PASSWORD)
        .base_url(&url)
        .http_config(http)
        .timeouts(
            Timeouts::default()
                .with_attempt(minute)
                .with_overall(minute),
        )
        .retry(RetryPolicy::never())
        .build_client()
        .unwrap();
    (client, received, release)
}

/// Waits until `done` (a guard against a hang, not a measure).
async fn until(what: &str, done: impl Fn() -> bool) {
    tokio::time::timeout(Duration::from_secs(60), async {
        while !done() {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await
    .unwrap_or_else(|_| panic!("{what}"));
}

/// A scan past [`MAX_CONCURRENT_SCANS`] sends its request (no permit is held across the
/// request), then waits, its answer's head in hand, for a scan to end, and completes.
#[tokio::test]
async fn a_scan_past_the_limit_sends_its_request_and_waits_to_decode() {
    let (client, received, release) = held_listing(HttpConfig::default()).await;
    let scans: Vec<_> = (0..=MAX_CONCURRENT_SCANS)
        .map(|_| {
            let client = client.clone();
            tokio::spawn(async move { client.find_user(SID, PHONE).await })
        })
        .collect();
    until("not every scan's request reached the server", || {
        received.load(Ordering::SeqCst) == MAX_CONCURRENT_SCANS + 1
    })
    .await;
    assert!(scans.iter().all(|scan| !scan.is_finished()));
    release.send(true).unwrap();
    for scan in scans {
        let found = scan.await.unwrap().unwrap();
        assert_eq!(found.map(|user| user.id), Some(UID.to_owned()));
    }
}

/// A clock whose waits end at once: a scan's wait for a permit ends as if the overall
/// deadline had come; `waits` records the waits asked for.
#[derive(Debug, Default)]
struct HurriedClock {
    waits: std::sync::Mutex<Vec<Duration>>,
}

impl Clock for HurriedClock {
    fn now(&self) -> std::time::SystemTime {
        std::time::SystemTime::now()
    }
    fn sleep(&self, duration: Duration) -> Sleep {
        self.waits.lock().unwrap().push(duration);
        Box::pin(std::future::ready(()))
    }
}

/// At most [`MAX_CONCURRENT_SCANS`] scans decode at once: while they are held, a further one
/// waits for a permit no longer than its request's remaining overall time, then fails with
/// `ProviderUnavailable` (the start of a verification then sent nothing).
#[tokio::test]
async fn a_scan_that_finds_no_free_permit_in_time_is_provider_unavailable() {
    let clock = Arc::new(HurriedClock::default());
    let http = HttpConfig::default().with_clock(Arc::clone(&clock) as Arc<dyn Clock>);
    let (client, received, release) = held_listing(http).await;
    let scans: Vec<_> = (0..=MAX_CONCURRENT_SCANS)
        .map(|_| {
            let client = client.clone();
            tokio::spawn(async move { client.find_user(SID, PHONE).await })
        })
        .collect();
    // Whichever scan comes ninth to the limit fails at once; the others hold their permits.
    until("no scan was turned away while the others were held", || {
        scans.iter().any(tokio::task::JoinHandle::is_finished)
    })
    .await;
    assert_eq!(received.load(Ordering::SeqCst), MAX_CONCURRENT_SCANS + 1);
    release.send(true).unwrap();
    let mut unavailable = 0;
    for scan in scans {
        match scan.await.unwrap() {
            Ok(found) => assert_eq!(found.map(|user| user.id), Some(UID.to_owned())),
            Err(err) => {
                assert_eq!(err.kind(), ErrorKind::ProviderUnavailable, "{err}");
                unavailable += 1;
            }
        }
    }
    assert_eq!(unavailable, 1);
    // The wait was bounded by what was left of the overall timeout.
    let waits = clock.waits.lock().unwrap();
    assert_eq!(waits.len(), 1, "{waits:?}");
    assert!(
        waits[0] > Duration::ZERO && waits[0] <= Duration::from_secs(60),
        "{waits:?}"
    );
}

#[tokio::test]
async fn a_start_answer_without_a_method_is_not_taken_for_the_requested_one() {
    // No body, no method, `null`, the pre-2017 `auth_id` shape: Verigator may have fallen back
    // to SMS without saying so.
    let answers = [
        ResponseTemplate::new(201),
        ResponseTemplate::new(204),
        ResponseTemplate::new(201).set_body_json(json!({"method": null})),
        ResponseTemplate::new(201).set_body_json(json!({"auth_id": "a-1"})),
        // A method this crate does not know, or not a string: the PIN went out all the same.
        ResponseTemplate::new(201).set_body_json(json!({"method": "push"})),
        ResponseTemplate::new(201).set_body_json(json!({"method": 7})),
        ResponseTemplate::new(201).set_body_json(json!({"method": {"name": "sms"}})),
    ];
    for (i, answer) in answers.into_iter().enumerate() {
        let server = MockServer::start().await;
        expect("POST", &users_path())
            .respond_with(ResponseTemplate::new(201).set_body_json(user_json()))
            .expect(1)
            .mount(&server)
            .await;
        expect_json("POST", &auth_path(), json!({"method": "totp"}))
            .respond_with(answer)
            .expect(1)
            .mount(&server)
            .await;
        // The PIN alone (`body_json` matches the whole body): not checked as a TOTP code.
        expect_json("PUT", &auth_path(), json!({"token": "123456"}))
            .respond_with(
                ResponseTemplate::new(200)
                    .set_body_json(json!({"verified": true, "method": "sms"})),
            )
            .expect(1)
            .mount(&server)
            .await;
        let verifier = verifier(&server);
        let handle = verifier
            .start(&StartRequest::otp(Channel::Totp, phone()))
            .await
            .unwrap();
        assert_eq!(handle.extra_str(EXTRA_METHOD), None, "{i}");
        assert_eq!(
            handle.extra_str(EXTRA_REQUESTED_METHOD),
            Some("totp"),
            "{i}"
        );
        assert_eq!(handle.channel, Channel::Totp, "the channel asked for: {i}");
        // Checked from its JSON, as another process would.
        let handle = Verification::from_json(&handle.to_json().unwrap()).unwrap();
        let outcome = verifier
            .check_code(&handle, &Code::new("123456").unwrap())
            .await
            .unwrap();
        let done = outcome.verified().unwrap();
        assert_eq!(done.channel, Channel::Sms, "as Verigator reported it: {i}");
        server.verify().await;
    }
}
