//! The testkit's conformance suite through a router, against the sandbox, for each of the three
//! providers: a router whose first route cannot connect (every start fails over to the second,
//! until its circuit opens) and whose second route is the provider on the sandbox.
//!
//! The suite expects every handle to name the verifier's provider, so each run is a router over
//! one provider; routing across providers is in `failover.rs`, `rules.rs` and the facade's and
//! CLI's TOML tests.

use std::sync::Arc;
use std::time::Duration;

use phone_verify_core::http::{ConfigureHttp, RetryPolicy};
use phone_verify_core::{PhoneVerifier, SessionResolver};
use phone_verify_router::{Route, Router};
use phone_verify_testkit::Report;
use phone_verify_testkit::sandbox::{
    Provider, Sandbox, SandboxConfig, SandboxHandle, SandboxHarness,
};
use phone_verify_verifik::VerifikBuilder;
use phone_verify_verifykit::VerifyKitBuilder;

fn retry() -> RetryPolicy {
    RetryPolicy::default().with_backoff(Duration::from_millis(1), Duration::from_millis(5))
}

/// A base URL on loopback where nothing listens.
fn refused_url() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    format!("http://127.0.0.1:{port}")
}

fn verifykit(base: &str) -> Arc<phone_verify_verifykit::VerifyKit> {
    Arc::new(
        VerifyKitBuilder::sandbox(base)
            .fallback_end_user_ip(std::net::Ipv4Addr::LOCALHOST.into())
            .retry(retry())
            .build()
            .unwrap(),
    )
}

fn verifik(base: &str) -> Arc<phone_verify_verifik::Verifik> {
    Arc::new(
        VerifikBuilder::sandbox(base)
            .retry(retry())
            .build()
            .unwrap(),
    )
}

/// `down` then `up`; only `up` resolves sessions (resolution moves on only on `NotFound`, so a
/// resolver that cannot connect would end it).
fn router<V: PhoneVerifier + SessionResolver + 'static>(
    build: impl Fn(&str) -> Arc<V>,
    sandbox: &SandboxHandle,
) -> Router {
    let down = build(&refused_url());
    let up = build(&sandbox.base_url());
    Router::builder()
        .route(Route::new("down", down))
        .route(Route::new("up", up.clone()).with_resolver(up))
        .build()
        .unwrap()
}

async fn conforms<V: PhoneVerifier + SessionResolver + 'static>(
    provider: Provider,
    build: fn(&str) -> Arc<V>,
    sends: &[&str],
) -> Report {
    let sandbox = Sandbox::start(SandboxConfig::default()).await.unwrap();
    let tested = router(build, &sandbox);
    let mut harness = SandboxHarness::new(sandbox, provider, move |s| Arc::new(router(build, s)));
    for send in sends {
        harness = harness.with_send_endpoint("POST", send);
    }
    let report = phone_verify_testkit::run(&tested, Some(&tested), &harness).await;
    println!("{report}");
    report.assert_all_passed();
    assert_eq!(report.skipped().count(), 0, "{report}");
    assert!(report.passed().count() > 20, "{report}");
    report
}

#[tokio::test]
async fn a_router_over_verifykit_conforms() {
    let report = conforms(
        Provider::VerifyKit,
        verifykit,
        &["/v1.0/send-otp", "/v1.0/start"],
    )
    .await;
    report.assert_passed(&[
        "otp.handle_in_fresh_client[sms]",
        "reverse.handle_in_fresh_client[whatsapp]",
        "send.not_retried_after_503[sms]",
        "session.resolves_verified_phone",
    ]);
}

#[tokio::test]
async fn a_router_over_verifik_conforms() {
    let report = conforms(
        Provider::Verifik,
        verifik,
        &["/v2/phone-validations/manual"],
    )
    .await;
    report.assert_passed(&[
        "otp.handle_in_fresh_client[sms]",
        "send.not_retried_after_reset[sms]",
        "session.unknown_is_not_found",
    ]);
}

/// Verigator verifies registered users: every fresh phone is registered and enrolled in the
/// sandbox's authenticator first (as in the Verigator crate's own conformance test), and sends
/// are `POST …/users/{id}/auth`.
mod verigator {
    use std::sync::{Arc, Mutex};
    use std::time::Duration;

    use phone_verify_core::{Channel, Code, PhoneNumber, PhoneVerifier, Verification};
    use phone_verify_router::{Route, Router};
    use phone_verify_sandbox::{Fault, FaultAction, RequestRecord};
    use phone_verify_testkit::sandbox::{
        Provider, Sandbox, SandboxConfig, SandboxHandle, SandboxHarness,
    };
    use phone_verify_testkit::{
        Harness, HarnessError, HarnessResult, RequestCounts, SendFault, async_trait,
    };
    use phone_verify_verigator::{EXTRA_METHOD, EXTRA_SERVICE_ID, Verigator, VerigatorBuilder};

    fn build(base: &str, sandbox: &SandboxHandle, service: &str) -> Verigator {
        VerigatorBuilder::sandbox(base)
            .service_id(service)
            .pin_validity(sandbox.config().verigator_pin_ttl)
            .build()
            .unwrap()
    }

    fn router(sandbox: &SandboxHandle, service: &str) -> Router {
        Router::builder()
            .route(Route::new(
                "down",
                Arc::new(build(&super::refused_url(), sandbox, service)),
            ))
            .route(Route::new(
                "up",
                Arc::new(build(&sandbox.base_url(), sandbox, service)),
            ))
            .build()
            .unwrap()
    }

    fn read_code(sandbox: &SandboxHandle, handle: &Verification) -> HarnessResult<Option<Code>> {
        let failed = |e: &dyn std::fmt::Display| HarnessError::failed(e.to_string());
        if handle.extra_str(EXTRA_METHOD) == Some("totp") {
            let service = handle
                .extra_str(EXTRA_SERVICE_ID)
                .ok_or_else(|| HarnessError::failed("no service id"))?;
            let code = sandbox
                .totp_code(service, &handle.reference)
                .map_err(|e| failed(&e))?;
            return Code::new(&code).map(Some).map_err(|e| failed(&e));
        }
        let phone = handle
            .phone
            .as_ref()
            .ok_or_else(|| HarnessError::failed("no phone"))?;
        sandbox
            .messages(phone.e164())
            .into_iter()
            .find(|m| m.reference.as_deref() == Some(handle.reference.as_str()))
            .and_then(|m| m.code)
            .map(|code| Code::new(&code).map_err(|e| failed(&e)))
            .transpose()
    }

    struct VerigatorHarness {
        inner: SandboxHarness,
        admin: Verigator,
        last_user: Mutex<Option<String>>,
        own_requests: Mutex<u64>,
    }

    impl VerigatorHarness {
        fn requests(&self) -> Vec<RequestRecord> {
            self.inner
                .sandbox()
                .requests_of(Provider::Verigator)
                .requests
        }
    }

    #[async_trait]
    impl Harness for VerigatorHarness {
        async fn fresh_phone(&self) -> HarnessResult<PhoneNumber> {
            let phone = self.inner.fresh_phone().await?;
            let before = self.requests().len();
            let user = self.admin.user_for(&phone).await?;
            *self.own_requests.lock().unwrap() += (self.requests().len() - before) as u64;
            self.inner
                .sandbox()
                .enroll_totp(self.admin.service_id(), &user.id)
                .map_err(|e| HarnessError::failed(e.to_string()))?;
            *self.last_user.lock().unwrap() = Some(user.id);
            Ok(phone)
        }

        fn delivers_codes(&self, channel: &Channel) -> bool {
            self.inner.delivers_codes(channel)
        }

        async fn delivered_code(&self, handle: &Verification) -> HarnessResult<Option<Code>> {
            self.inner.delivered_code(handle).await
        }

        async fn advance_time(&self, by: Duration) -> HarnessResult<()> {
            self.inner.advance_time(by).await
        }

        async fn request_counts(&self) -> HarnessResult<RequestCounts> {
            let log = self.requests();
            let sends = log
                .iter()
                .filter(|r| r.method == "POST" && r.path.ends_with("/auth"))
                .count() as u64;
            let own = *self.own_requests.lock().unwrap();
            Ok(RequestCounts::new(sends, log.len() as u64 - own))
        }

        async fn inject_send_fault(&self, fault: SendFault) -> HarnessResult<()> {
            let user = self.last_user.lock().unwrap().clone();
            let user = user.ok_or_else(|| HarnessError::failed("no phone handed out yet"))?;
            let action = match fault {
                SendFault::ServiceUnavailable => FaultAction::Status {
                    status: 503,
                    body: None,
                },
                SendFault::ConnectionReset => FaultAction::ConnectionReset,
                other => return Err(HarnessError::unsupported(format!("{other:?}"))),
            };
            let path = format!(
                "/v1/service/service/{}/users/{user}/auth",
                self.admin.service_id()
            );
            self.inner.sandbox().inject_fault(
                Fault::new(Provider::Verigator, action)
                    .method("POST")
                    .path(path),
            );
            Ok(())
        }

        async fn clear_faults(&self) -> HarnessResult<()> {
            self.inner.clear_faults().await
        }

        async fn fresh_verifier(&self) -> HarnessResult<Arc<dyn PhoneVerifier>> {
            self.inner.fresh_verifier().await
        }
    }

    #[tokio::test]
    async fn a_router_over_verigator_conforms() {
        let sandbox = Sandbox::start(SandboxConfig::seeded(42)).await.unwrap();
        let service = VerigatorBuilder::sandbox(&sandbox.base_url())
            .build_client()
            .unwrap()
            .create_service("router-conformance.example", "Router conformance")
            .await
            .unwrap()
            .id;
        let tested = router(&sandbox, &service);
        let admin = build(&sandbox.base_url(), &sandbox, &service);
        let fresh_service = service.clone();
        let inner = SandboxHarness::new(sandbox, Provider::Verigator, move |s| {
            Arc::new(router(s, &fresh_service))
        })
        .with_code_channels([Channel::Sms, Channel::Totp])
        .with_code_reader(read_code)
        .with_phone_prefix("+3725", 7);
        let harness = VerigatorHarness {
            inner,
            admin,
            last_user: Mutex::new(None),
            own_requests: Mutex::new(0),
        };
        let report = phone_verify_testkit::run(&tested, None, &harness).await;
        println!("{report}");
        report.assert_all_passed();
        assert_eq!(report.skipped().count(), 0, "{report}");
        report.assert_passed(&[
            "otp.handle_in_fresh_client[totp]",
            "otp.expired_is_rejected[sms]",
            "send.not_retried_after_503[sms]",
            "send.not_retried_after_reset[sms]",
        ]);
    }
}
