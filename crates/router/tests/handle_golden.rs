//! Golden handles: a routed handle's JSON as the router writes it (the provider's handle and
//! its route's name in `extras.route`), which applications keep in their databases. Each must
//! still be read, written back byte for byte, and checked on its route by every later version.
//!
//! Never edit or remove a handle here: when the handle changes, add a new one beside them.

use std::sync::Arc;

use phone_verify_core::{Code, ErrorKind, PhoneVerifierExt, Verification};
use phone_verify_router::{EXTRA_ROUTE, Route, Router};
use phone_verify_sandbox::{Provider, Sandbox, SandboxConfig, SandboxHandle};
use phone_verify_verifik::VerifikBuilder;
use phone_verify_verifykit::VerifyKitBuilder;

/// A VerifyKit code by SMS, started on route `a`.
const ROUTE_A_VERIFYKIT: &str = r#"{"format":"phone-verify/verification","version":1,"provider":"verifykit","reference":"sms-ref-1","channel":"sms","phone":"+905321234567","created_at":"2026-11-22T18:00:00Z","expires_at":"2026-11-22T18:05:00Z","extras":{"code_length":6,"country_code":"TR","flow":"sms_otp","route":"a"}}"#;

/// A Verifik code by SMS (manual mode), started on route `b`.
const ROUTE_B_VERIFIK: &str = r#"{"format":"phone-verify/verification","version":1,"provider":"verifik","reference":"674de8df21c72be3cc42b8a7","channel":"sms","phone":"+50762647737","created_at":"2024-12-02T17:05:36.788Z","expires_at":"2024-12-02T17:15:35Z","extras":{"country_code":"+507","mode":"manual","phone_gateway":"sms","route":"b"}}"#;

/// Routes `a` (VerifyKit) and `b` (Verifik) on `sb`, as a freshly started process builds them.
fn router(sb: &SandboxHandle) -> Router {
    let verifykit = VerifyKitBuilder::sandbox(&sb.base_url())
        .fallback_end_user_ip(std::net::Ipv4Addr::LOCALHOST.into())
        .build()
        .unwrap();
    let verifik = VerifikBuilder::sandbox(&sb.base_url()).build().unwrap();
    Router::builder()
        .route(Route::new("a", Arc::new(verifykit)))
        .route(Route::new("b", Arc::new(verifik)))
        .build()
        .unwrap()
}

/// The requests `provider` received, by `"METHOD path"`.
fn requests(sb: &SandboxHandle, provider: Provider) -> Vec<String> {
    sb.requests_of(provider).counts.into_keys().collect()
}

#[tokio::test]
async fn each_routed_handle_reads_back_and_checks_on_its_route() {
    let cases = [
        (
            ROUTE_A_VERIFYKIT,
            "a",
            Provider::VerifyKit,
            "POST /v1.0/check-otp",
        ),
        (
            ROUTE_B_VERIFIK,
            "b",
            Provider::Verifik,
            "PUT /v2/phone-validations",
        ),
    ];
    for (json, route, provider, check) in cases {
        let sb = Sandbox::start(SandboxConfig::default()).await.unwrap();
        let handle = Verification::from_json(json).unwrap();
        assert_eq!(
            handle.to_json().unwrap(),
            json,
            "written back byte for byte"
        );
        assert_eq!(handle.extra_str(EXTRA_ROUTE), Some(route));
        // The sandbox never started these verifications: whatever it answers, the check went
        // to the handle's route, and the router did not refuse the handle.
        let result = router(&sb)
            .check_code(&handle, &Code::new("123456").unwrap())
            .await;
        assert!(
            !matches!(&result, Err(e) if e.kind() == ErrorKind::InvalidInput),
            "{json}: {result:?}"
        );
        assert_eq!(requests(&sb, provider), [check], "{json}");
        let other = [Provider::VerifyKit, Provider::Verifik]
            .into_iter()
            .find(|p| *p != provider)
            .unwrap();
        assert!(
            requests(&sb, other).is_empty(),
            "{json}: the other route was asked"
        );
    }
}
