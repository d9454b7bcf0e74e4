//! VerifyKit emulation: the web-rest host (`/verifykit/web-rest/v1.0/...`) and the api host
//! (`/verifykit/api/v1.0/...`), with VerifyKit's `meta`/`result` envelope and error codes.

mod blacklist;
mod constants;
mod email;
mod error;
mod format;
mod info;
mod otp_flow;
mod qr;
mod records;
mod reference;
mod request;
mod reverse;
mod slot;
mod state;

use axum::Router;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};

use crate::body::BodyFormat;
use crate::model::Provider;
use crate::wire::{Wire, finish};

use error::{VkError, status_error};

pub(crate) use email::complete_email_flow;
pub(crate) use reverse::complete_reverse_flow;
pub(crate) use slot::{VerifyKit, VerifyKitSlot};

/// What the sandbox answers in VerifyKit's format on both hosts (unknown routes, faults).
const WIRE: Wire = Wire {
    provider: Provider::VerifyKit,
    status_error,
    malformed_json: r#"{"meta":{"requestId":"sandbox-fault","httpStatusCode":200},"result":{"reference":"#,
    body: BodyFormat::Json,
};

/// Routes of `https://web-rest.verifykit.com` (nested under `/verifykit/web-rest`).
pub(crate) fn web_rest_router(app: &VerifyKit) -> Router {
    let routes = Router::new()
        .route("/v1.0/init", get(info::init))
        .route("/v1.0/start", post(reverse::start))
        .route("/v1.0/check", post(reverse::check))
        .route("/v1.0/check-whatsapp", post(reverse::check_whatsapp))
        .route("/v1.0/country", post(info::country))
        .route("/v1.0/send-otp", post(otp_flow::send_otp))
        .route("/v1.0/check-otp", post(otp_flow::check_otp))
        .route("/v1.0/start-email", post(email::start_email))
        .route("/v1.0/check-email", post(email::check_email))
        .route("/v1.0/blacklist/add", post(blacklist::add))
        .route("/v1.0/blacklist/remove", post(blacklist::remove))
        .route_layer(axum::middleware::from_fn_with_state(
            app.clone(),
            require_end_user_ip,
        ));
    finish(app, WIRE, routes)
}

/// Routes of `https://api.verifykit.com` (nested under `/verifykit/api`).
pub(crate) fn api_router(app: &VerifyKit) -> Router {
    let routes = Router::new()
        .route("/v1.0/result", post(info::result))
        .route("/v1.0/access-token", get(info::access_token))
        .route(
            "/v1.0/send-whatsapp-message",
            post(info::send_whatsapp_message),
        );
    finish(app, WIRE, routes)
}

/// Refuses a web-rest request without a valid `X-Vfk-Forwarded-For` (the end user's IP), which
/// VerifyKit's documentation asks for "in all requests": HTTP 403 with VerifyKit's error
/// envelope and the code [`VkError::END_USER_IP_MISSING`] (VerifyKit documents no code for it).
/// A wrong or missing server key is refused first, with the documented `403038`.
async fn require_end_user_ip(
    axum::extract::State(app): axum::extract::State<VerifyKit>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let key_ok = req
        .headers()
        .get("x-vfk-server-key")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|key| {
            crate::otp::constant_time_eq(key.trim(), &app.config.verifykit_server_key)
        });
    if !key_ok {
        return VkError::UNDEFINED_APPLICATION.into_response();
    }
    let valid = req
        .headers()
        .get("x-vfk-forwarded-for")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim().parse::<std::net::IpAddr>().is_ok());
    if valid {
        next.run(req).await
    } else {
        VkError::END_USER_IP_MISSING.into_response()
    }
}
