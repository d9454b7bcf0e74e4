//! Entry points for the repository's `fuzz/` crate (cargo-fuzz targets). Hidden: not part of
//! the public API, and may change in any release.

use axum::body::Body;
use axum::http::{Method, Request};
use tower_service::Service as _;

use crate::app::Shared;
use crate::body::{Input, parse_body};
use crate::config::{SandboxConfig, TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN};
use crate::server;

/// Every emulated endpoint: method and path, `{}` standing for an id the fuzzer chooses.
pub const ROUTES: &[(&str, &str)] = &[
    ("POST", "/twilio/v2/Services"),
    ("GET", "/twilio/v2/Services/{}"),
    ("POST", "/twilio/v2/Services/{}/Verifications"),
    ("GET", "/twilio/v2/Services/{}/Verifications/{}"),
    ("POST", "/twilio/v2/Services/{}/Verifications/{}"),
    ("POST", "/twilio/v2/Services/{}/VerificationCheck"),
    ("POST", "/verifik/v2/projects/phone-login"),
    ("POST", "/verifik/v2/projects/phone-login/confirm"),
    ("POST", "/verifik/v2/projects/email-login"),
    ("POST", "/verifik/v2/projects/email-login/confirm"),
    ("GET", "/verifik/v2/auth/session"),
    ("POST", "/verifik/v2/auth/renew-and-revoke"),
    ("POST", "/verifik/v2/app-registrations"),
    ("POST", "/verifik/v2/phone-validations"),
    ("PUT", "/verifik/v2/phone-validations"),
    ("GET", "/verifik/v2/phone-validations"),
    ("POST", "/verifik/v2/phone-validations/validate"),
    ("POST", "/verifik/v2/phone-validations/app-registration"),
    ("POST", "/verifik/v2/phone-validations/manual"),
    ("GET", "/verifik/v2/phone-validations/{}"),
    ("POST", "/verifik/v2/phone-validations/{}/validate"),
    ("GET", "/verifykit/web-rest/v1.0/init"),
    ("POST", "/verifykit/web-rest/v1.0/start"),
    ("POST", "/verifykit/web-rest/v1.0/check"),
    ("POST", "/verifykit/web-rest/v1.0/check-whatsapp"),
    ("POST", "/verifykit/web-rest/v1.0/country"),
    ("POST", "/verifykit/web-rest/v1.0/send-otp"),
    ("POST", "/verifykit/web-rest/v1.0/check-otp"),
    ("POST", "/verifykit/web-rest/v1.0/start-email"),
    ("POST", "/verifykit/web-rest/v1.0/check-email"),
    ("POST", "/verifykit/web-rest/v1.0/blacklist/add"),
    ("POST", "/verifykit/web-rest/v1.0/blacklist/remove"),
    ("POST", "/verifykit/api/v1.0/result"),
    ("GET", "/verifykit/api/v1.0/access-token"),
    ("POST", "/verifykit/api/v1.0/send-whatsapp-message"),
    ("POST", "/verigator/v1/service/service"),
    ("GET", "/verigator/v1/service/service/{}"),
    ("DELETE", "/verigator/v1/service/service/{}"),
    ("POST", "/verigator/v1/service/service/{}/users"),
    ("GET", "/verigator/v1/service/service/{}/users"),
    ("GET", "/verigator/v1/service/service/{}/users/{}"),
    ("DELETE", "/verigator/v1/service/service/{}/users/{}"),
    ("POST", "/verigator/v1/service/service/{}/users/{}/auth"),
    ("PUT", "/verigator/v1/service/service/{}/users/{}/auth"),
    // Added after the first seeds were written: at the end, so their route bytes keep naming
    // the same endpoints.
    ("GET", "/twilio/v2/Services"),
    ("POST", "/twilio/v2/Services/{}"),
    ("DELETE", "/twilio/v2/Services/{}"),
    ("GET", "/twilio/v2/Attempts"),
    ("GET", "/twilio/v2/Attempts/{}"),
];

/// The content types a fuzzed request is sent with (`None`: no `Content-Type` header).
pub const CONTENT_TYPES: &[Option<&str>] = &[
    Some("application/json"),
    Some("application/x-www-form-urlencoded"),
    None,
    Some("text/plain; charset=utf-8"),
];

/// One fuzzed request to the sandbox.
#[derive(Debug, Clone, Copy)]
pub struct FuzzRequest<'a> {
    /// The endpoint: an index into [`ROUTES`], taken modulo its length.
    pub route: u8,
    /// The value of every `{}` of the route (percent-encoded into the path).
    pub id: &'a str,
    /// The query string (sent as is when it makes a valid URI).
    pub query: &'a str,
    /// The content type: an index into [`CONTENT_TYPES`], taken modulo its length.
    pub content_type: u8,
    /// Whether the provider's sandbox credentials are sent.
    pub authenticated: bool,
    /// The request body.
    pub body: &'a [u8],
}

/// Sends `request` through a fresh sandbox's whole route tree in-process (the provider
/// middleware, the body extraction by the provider's format and `Content-Type`, and the
/// endpoint's own request decoding) and
/// reads the answer in full. `None` when the request does not make a valid URI.
pub async fn handle(request: FuzzRequest<'_>) -> Option<(u16, usize)> {
    let (method, template) = ROUTES[usize::from(request.route) % ROUTES.len()];
    let id: String = url::form_urlencoded::byte_serialize(request.id.as_bytes()).collect();
    let mut uri = template.replace("{}", &id);
    if !request.query.is_empty() {
        uri = format!("{uri}?{}", request.query);
    }
    let config = SandboxConfig::default();
    let mut builder = Request::builder()
        .method(Method::from_bytes(method.as_bytes()).ok()?)
        .uri(uri);
    let content_type = CONTENT_TYPES[usize::from(request.content_type) % CONTENT_TYPES.len()];
    if let Some(content_type) = content_type {
        builder = builder.header("content-type", content_type);
    }
    if request.authenticated {
        use base64::Engine as _;
        let basic = base64::engine::general_purpose::STANDARD
            .encode(format!("{TWILIO_ACCOUNT_SID}:{TWILIO_AUTH_TOKEN}"));
        builder = match template.split('/').nth(1) {
            Some("twilio") => builder.header("authorization", format!("Basic {basic}")),
            Some("verifik") => {
                builder.header("authorization", format!("Bearer {}", config.verifik_token))
            }
            Some("verifykit") => builder
                .header("x-vfk-server-key", config.verifykit_server_key.as_str())
                .header("x-vfk-forwarded-for", "203.0.113.7"),
            _ => builder.header("x-service-auth", config.verigator_service_auth()),
        };
    }
    let http = builder.body(Body::from(request.body.to_vec())).ok()?;
    let app = Shared::new(config);
    let mut router = server::router(&app);
    let Ok(response) = router.call(http).await;
    let status = response.status().as_u16();
    let body = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .ok()?;
    Some((status, body.len()))
}

/// Reads `body` as the sandbox's control API reads a request body (a JSON object whatever the
/// `Content-Type`, else a form, else empty and marked malformed; the providers' routes read
/// theirs by `Content-Type`, which [`handle`] covers), then reads each field back as text and as
/// a boolean as the endpoints do. Returns the number of fields and whether the body was
/// malformed.
pub fn read_body(body: &[u8]) -> (usize, bool) {
    let (fields, body_malformed) = parse_body(body);
    let input = Input {
        body: fields,
        body_malformed,
        ..Input::default()
    };
    for key in input.body.keys() {
        drop(input.str(key));
        let _ = input.bool(key);
        drop(input.str_or_query(key));
    }
    (input.body.len(), input.body_malformed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_read_as_the_endpoints_read_them() {
        assert_eq!(read_body(br#"{"a":1,"b":"x"}"#), (2, false));
        assert_eq!(read_body(b"To=%2B15017122661&Channel=sms"), (2, false));
        assert_eq!(read_body(b"[1]"), (0, true));
        assert_eq!(read_body(b" "), (0, false));
    }

    #[tokio::test]
    async fn requests_reach_the_endpoints() {
        let request = FuzzRequest {
            route: 21, // VerifyKit's GET /init
            id: "",
            query: "lang=en",
            content_type: 0,
            authenticated: true,
            body: b"",
        };
        assert_eq!(handle(request).await.map(|(status, _)| status), Some(200));
        let unauthenticated = FuzzRequest {
            authenticated: false,
            ..request
        };
        assert_eq!(
            handle(unauthenticated).await.map(|(status, _)| status),
            Some(403)
        );
        let bad_uri = FuzzRequest {
            query: "a b",
            ..request
        };
        assert_eq!(handle(bad_uri).await, None);
        let services = ROUTES
            .iter()
            .position(|route| *route == ("GET", "/twilio/v2/Services"))
            .unwrap();
        let list = FuzzRequest {
            route: u8::try_from(services).unwrap(),
            query: "PageSize=1",
            ..request
        };
        assert_eq!(handle(list).await.map(|(status, _)| status), Some(200));
        let attempts = ROUTES
            .iter()
            .position(|route| *route == ("GET", "/twilio/v2/Attempts"))
            .unwrap();
        let filtered = FuzzRequest {
            route: u8::try_from(attempts).unwrap(),
            query: "Status=CONVERTED&ChannelData.To=%2B15017122661",
            ..request
        };
        assert_eq!(handle(filtered).await.map(|(status, _)| status), Some(200));
    }
}
