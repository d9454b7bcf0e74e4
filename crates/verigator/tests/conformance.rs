//! The testkit's conformance suite against the sandbox's Verigator emulation.
//!
//! The testkit's `SandboxHarness` reads codes, moves the clock and builds fresh clients. This
//! test wraps it for two things specific to Verigator:
//!
//! - **Users with an authenticator.** TOTP codes come from an app the user set up, so every
//!   fresh phone is registered (through the verifier, as `start` would) and enrolled in the
//!   sandbox's authenticator before the suite uses it; otherwise Verigator falls back to SMS,
//!   which `tests/sandbox.rs` covers. SMS verifications of those users still go by SMS.
//! - **The send endpoint.** Starting an authentication is `POST …/users/{UserId}/auth`. The
//!   wrapper counts sends and injects send faults on that exact path, and leaves its own
//!   registration requests (made while handing out phones) out of the request counts.

use std::sync::Arc;
use std::sync::Mutex;
use std::time::Duration;

use phone_verify_core::{Channel, Code, PhoneNumber, PhoneVerifier, Verification};
use phone_verify_sandbox::{Fault, FaultAction, RequestRecord};
use phone_verify_testkit::sandbox::{
    Provider, Sandbox, SandboxConfig, SandboxHandle, SandboxHarness,
};
use phone_verify_testkit::{
    Harness, HarnessError, HarnessResult, RequestCounts, SendFault, async_trait,
};
use phone_verify_verigator::{EXTRA_METHOD, EXTRA_SERVICE_ID, Verigator, VerigatorBuilder};

/// The verifier the suite tests, and the fresh clients the harness builds.
fn build(sandbox: &SandboxHandle, service_id: &str) -> Verigator {
    VerigatorBuilder::sandbox(&sandbox.base_url())
        .service_id(service_id)
        .pin_validity(sandbox.config().verigator_pin_ttl)
        .build()
        .unwrap()
}

/// The code for a handle: the authenticator's for TOTP, else the SMS the sandbox sent to the
/// handle's user.
fn read_code(sandbox: &SandboxHandle, handle: &Verification) -> HarnessResult<Option<Code>> {
    let failed = |e: &dyn std::fmt::Display| HarnessError::failed(e.to_string());
    if handle.extra_str(EXTRA_METHOD) == Some("totp") {
        let service = handle
            .extra_str(EXTRA_SERVICE_ID)
            .ok_or_else(|| HarnessError::failed("the TOTP handle has no service id"))?;
        let code = sandbox
            .totp_code(service, &handle.reference)
            .map_err(|e| failed(&e))?;
        return Code::new(&code).map(Some).map_err(|e| failed(&e));
    }
    let Some(phone) = &handle.phone else {
        return Err(HarnessError::failed("the handle has no phone"));
    };
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
    /// Registers the users of fresh phones.
    admin: Verigator,
    /// The user of the newest fresh phone, where send faults go.
    last_user: Mutex<Option<String>>,
    /// Requests the harness itself made, left out of the counts.
    own_requests: Mutex<u64>,
}

impl VerigatorHarness {
    fn is_send(record: &RequestRecord) -> bool {
        record.method == "POST" && record.path.ends_with("/auth")
    }

    fn verigator_requests(&self) -> Vec<RequestRecord> {
        self.inner
            .sandbox()
            .requests()
            .requests
            .into_iter()
            .filter(|r| r.provider == Provider::Verigator)
            .collect()
    }
}

#[async_trait]
impl Harness for VerigatorHarness {
    async fn fresh_phone(&self) -> HarnessResult<PhoneNumber> {
        let phone = self.inner.fresh_phone().await?;
        let before = self.verigator_requests().len();
        let user = self.admin.user_for(&phone).await?;
        let made = self.verigator_requests().len() - before;
        *self.own_requests.lock().unwrap() += made as u64;
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

    async fn delivered_code(&self, verification: &Verification) -> HarnessResult<Option<Code>> {
        self.inner.delivered_code(verification).await
    }

    async fn advance_time(&self, by: Duration) -> HarnessResult<()> {
        self.inner.advance_time(by).await
    }

    async fn request_counts(&self) -> HarnessResult<RequestCounts> {
        let log = self.verigator_requests();
        let sends = log.iter().filter(|r| Self::is_send(r)).count() as u64;
        let own = *self.own_requests.lock().unwrap();
        Ok(RequestCounts::new(sends, log.len() as u64 - own))
    }

    async fn inject_send_fault(&self, fault: SendFault) -> HarnessResult<()> {
        let Some(user) = self.last_user.lock().unwrap().clone() else {
            return Err(HarnessError::failed("no phone handed out yet"));
        };
        let action = match fault {
            SendFault::ServiceUnavailable => FaultAction::Status {
                status: 503,
                body: None,
            },
            SendFault::ConnectionReset => FaultAction::ConnectionReset,
            other => return Err(HarnessError::unsupported(format!("send fault {other:?}"))),
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
async fn verigator_conforms() {
    let sandbox = Sandbox::start(SandboxConfig::seeded(42)).await.unwrap();
    let service = VerigatorBuilder::sandbox(&sandbox.base_url())
        .build_client()
        .unwrap()
        .create_service("conformance.example", "Conformance")
        .await
        .unwrap();
    let service_id = service.id.clone();
    let verifier = build(&sandbox, &service_id);
    let inner = SandboxHarness::new(sandbox, Provider::Verigator, move |s| {
        Arc::new(build(s, &service_id))
    })
    .with_code_channels([Channel::Sms, Channel::Totp])
    .with_code_reader(read_code)
    .with_phone_prefix("+3725", 7);
    let harness = VerigatorHarness {
        inner,
        admin: verifier.clone(),
        last_user: Mutex::new(None),
        own_requests: Mutex::new(0),
    };

    // Verigator has no sessions: no `SessionResolver` to give.
    let report = phone_verify_testkit::run(&verifier, None, &harness).await;
    println!("{report}");
    report.assert_all_passed();
    let skipped: Vec<_> = report.skipped().map(|r| r.name.as_str()).collect();
    assert!(skipped.is_empty(), "skipped: {skipped:?}\n{report}");

    let mut expected = vec![
        "input.unsupported_channel_refused[voice]".to_owned(),
        "input.foreign_handle_refused".to_owned(),
    ];
    for c in ["sms", "totp"] {
        for check in [
            "input.otp_without_phone_refused",
            "input.otp_check_without_code_refused",
            "otp.right_code_verifies",
            "otp.wrong_code_rejected",
            "otp.right_code_after_wrong_code",
            "otp.malformed_code_refused",
            "otp.expired_is_rejected",
            "otp.handle_json_round_trip",
            "otp.handle_in_fresh_client",
        ] {
            expected.push(format!("{check}[{c}]"));
        }
    }
    for check in [
        "send.exactly_once",
        "send.not_retried_after_503",
        "send.not_retried_after_reset",
    ] {
        expected.push(format!("{check}[sms]"));
    }
    let expected: Vec<&str> = expected.iter().map(String::as_str).collect();
    report.assert_passed(&expected);
    assert_eq!(report.results().len(), expected.len(), "{report}");
}
