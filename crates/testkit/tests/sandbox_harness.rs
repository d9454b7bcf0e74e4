//! `SandboxHarness` against a running sandbox, driven over raw HTTP (VerifyKit's `send-otp`).
#![cfg(feature = "sandbox")]

use std::sync::Arc;
use std::time::Duration;

use phone_verify_core::reqwest;
use phone_verify_core::{
    Capabilities, Channel, CheckOutcome, CheckRequest, Error, ErrorKind, PhoneNumber,
    PhoneVerifier, ProviderId, RejectReason, Rejection, StartRequest, Verification, async_trait,
};
use phone_verify_testkit::memory::InMemoryVerifier;
use phone_verify_testkit::sandbox::{
    Provider, Sandbox, SandboxConfig, SandboxHandle, SandboxHarness,
};
use phone_verify_testkit::{
    AnswerTo, Answering, CheckFault, DocumentedError, Harness, HarnessError, LookupFault,
    RequestCounts, RequestTarget, SendFault, Status, run,
};

/// `POST /v1.0/send-otp` to the sandbox's VerifyKit: the status and the reference, if any.
async fn send_otp(
    sandbox: &SandboxHandle,
    phone: &PhoneNumber,
) -> Result<(u16, Option<String>), reqwest::Error> {
    let response = reqwest::Client::new()
        .post(format!("{}/send-otp", sandbox.verifykit_web_rest_url()))
        .header(
            "x-vfk-server-key",
            sandbox.config().verifykit_server_key.as_str(),
        )
        // VerifyKit's web REST host refuses a request without the end user's IP.
        .header("x-vfk-forwarded-for", "203.0.113.7")
        .json(&serde_json::json!({
            "phoneNumber": phone.national_number(),
            "countryCode": phone.region().unwrap(),
        }))
        .send()
        .await?;
    let status = response.status().as_u16();
    let body: serde_json::Value = response.json().await.unwrap_or_default();
    let reference = body
        .pointer("/result/reference")
        .or_else(|| body.get("reference"));
    Ok((
        status,
        reference.and_then(|r| r.as_str()).map(str::to_owned),
    ))
}

#[tokio::test]
async fn harness_reads_counts_and_drives_the_sandbox() {
    let sandbox = Sandbox::start(SandboxConfig::default()).await.unwrap();
    let harness = SandboxHarness::new(sandbox, Provider::VerifyKit, |_| {
        Arc::new(InMemoryVerifier::new())
    })
    .with_send_endpoint("POST", "/v1.0/send-otp");
    assert_eq!(
        harness.request_counts().await.unwrap(),
        RequestCounts::new(0, 0)
    );

    let phone = harness.fresh_phone().await.unwrap();
    assert_ne!(harness.fresh_phone().await.unwrap(), phone);
    let (status, reference) = send_otp(harness.sandbox(), &phone).await.unwrap();
    assert!((200..300).contains(&status), "send-otp answered {status}");
    assert_eq!(
        harness.request_counts().await.unwrap(),
        RequestCounts::new(1, 1)
    );

    let handle = Verification::new(
        ProviderId::new_static("verifykit"),
        reference.unwrap(),
        Channel::Sms,
    )
    .with_phone(phone.clone());
    let code = harness.delivered_code(&handle).await.unwrap().unwrap();
    assert_eq!(
        Some(code.expose().to_owned()),
        harness.sandbox().latest_code(phone.e164())
    );
    assert_ne!(harness.wrong_code(&handle).await.unwrap(), code);
    assert!(harness.delivers_codes(&Channel::Sms) && !harness.delivers_codes(&Channel::Voice));

    harness
        .inject_send_fault(SendFault::ServiceUnavailable)
        .await
        .unwrap();
    let (status, _) = send_otp(harness.sandbox(), &phone).await.unwrap();
    assert_eq!(status, 503);
    harness
        .inject_send_fault(SendFault::ConnectionReset)
        .await
        .unwrap();
    assert!(send_otp(harness.sandbox(), &phone).await.is_err());
    assert_eq!(
        harness.request_counts().await.unwrap(),
        RequestCounts::new(3, 3)
    );
    harness
        .inject_send_fault(SendFault::ConnectionReset)
        .await
        .unwrap();
    harness.clear_faults().await.unwrap();
    assert!(harness.sandbox().pending_faults().is_empty());

    let before = harness.sandbox().now();
    harness
        .advance_time(Duration::from_secs(600))
        .await
        .unwrap();
    assert!(harness.sandbox().now() - before >= phone_verify_core::time::Duration::minutes(10));

    let unknown = Verification::new(
        ProviderId::new_static("verifykit"),
        "no-such-reference",
        Channel::WhatsApp,
    );
    assert!(matches!(
        harness.complete_reverse_flow(&unknown, &phone).await,
        Err(HarnessError::Failed(_))
    ));
    let fresh = harness.fresh_verifier().await.unwrap();
    assert_eq!(fresh.provider(), InMemoryVerifier::PROVIDER);
}

#[tokio::test]
async fn without_send_endpoints_counting_and_faults_are_unsupported() {
    let sandbox = Sandbox::start(SandboxConfig::default()).await.unwrap();
    let harness = SandboxHarness::new(sandbox, Provider::Verifik, |_| {
        Arc::new(InMemoryVerifier::new())
    })
    .with_phone_prefix("+5076", 7);
    assert!(
        harness
            .fresh_phone()
            .await
            .unwrap()
            .e164()
            .starts_with("+5076")
    );
    assert!(matches!(
        harness.request_counts().await,
        Err(HarnessError::Unsupported(_))
    ));
    assert!(matches!(
        harness.inject_send_fault(SendFault::ConnectionReset).await,
        Err(HarnessError::Unsupported(_))
    ));
    let phone = harness.fresh_phone().await.unwrap();
    let handle = Verification::new(ProviderId::new_static("verifik"), "x", Channel::WhatsApp);
    assert!(matches!(
        harness.complete_reverse_flow(&handle, &phone).await,
        Err(HarnessError::Unsupported(_))
    ));
    assert!(matches!(
        harness
            .inject_check_fault(&handle, CheckFault::AnswerLost)
            .await,
        Err(HarnessError::Unsupported(_))
    ));
    assert!(matches!(
        harness
            .inject_lookup_fault(&handle, LookupFault::ServiceUnavailable)
            .await,
        Err(HarnessError::Unsupported(_))
    ));
}

#[tokio::test]
async fn a_lookup_fault_answers_503_with_retry_after_and_must_be_used() {
    let sandbox = Sandbox::start(SandboxConfig::default()).await.unwrap();
    let harness = SandboxHarness::new(sandbox, Provider::VerifyKit, |_| {
        Arc::new(InMemoryVerifier::new())
    })
    .with_lookup_endpoint("POST", "/v1.0/check")
    .with_lookup_endpoint("POST", "/v1.0/result");
    let handle = Verification::new(ProviderId::new_static("verifykit"), "x", Channel::WhatsApp);

    // Injected at both endpoints, used at neither: clearing fails.
    harness
        .inject_lookup_fault(&handle, LookupFault::ServiceUnavailable)
        .await
        .unwrap();
    assert_eq!(harness.sandbox().pending_faults().len(), 2);
    let cleared = harness.clear_faults().await;
    assert!(
        matches!(&cleared, Err(HarnessError::Failed(m)) if m.contains("lookup fault was not used")),
        "{cleared:?}"
    );
    assert!(harness.sandbox().pending_faults().is_empty());

    // Used at one of them: a 503 with `Retry-After: 1`, and clearing succeeds.
    harness
        .inject_lookup_fault(&handle, LookupFault::ServiceUnavailable)
        .await
        .unwrap();
    let sandbox = harness.sandbox();
    let response = reqwest::Client::new()
        .post(format!("{}/result", sandbox.verifykit_api_url()))
        .header(
            "x-vfk-server-key",
            sandbox.config().verifykit_server_key.as_str(),
        )
        .json(&serde_json::json!({ "sessionId": "abc" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 503);
    assert_eq!(
        response
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok()),
        Some("1")
    );
    harness.clear_faults().await.unwrap();
}

/// `POST /v1.0/result` to the sandbox's VerifyKit: the status and the `Retry-After`, or the
/// transport error.
async fn result_lookup(sandbox: &SandboxHandle) -> Result<(u16, Option<String>), reqwest::Error> {
    let response = reqwest::Client::new()
        .post(format!("{}/result", sandbox.verifykit_api_url()))
        .header(
            "x-vfk-server-key",
            sandbox.config().verifykit_server_key.as_str(),
        )
        .json(&serde_json::json!({ "sessionId": "abc" }))
        .send()
        .await?;
    let retry_after = response
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    Ok((response.status().as_u16(), retry_after))
}

#[tokio::test]
async fn the_other_lookup_faults_answer_429_a_plain_503_or_a_reset_and_must_be_used() {
    let sandbox = Sandbox::start(SandboxConfig::default()).await.unwrap();
    let harness = SandboxHarness::new(sandbox, Provider::VerifyKit, |_| {
        Arc::new(InMemoryVerifier::new())
    })
    .with_lookup_endpoint("POST", "/v1.0/result");
    let handle = Verification::new(ProviderId::new_static("verifykit"), "x", Channel::WhatsApp);
    for fault in [
        LookupFault::RateLimited,
        LookupFault::ServiceUnavailableWithoutRetryAfter,
        LookupFault::ConnectionReset,
    ] {
        // Unused: clearing fails.
        harness.inject_lookup_fault(&handle, fault).await.unwrap();
        let cleared = harness.clear_faults().await;
        assert!(
            matches!(&cleared, Err(HarnessError::Failed(m)) if m.contains("lookup fault was not used")),
            "{fault:?}: {cleared:?}"
        );
        // Used: the answer the fault names, and clearing succeeds.
        harness.inject_lookup_fault(&handle, fault).await.unwrap();
        let answer = result_lookup(harness.sandbox()).await;
        match fault {
            LookupFault::RateLimited => {
                assert_eq!(answer.unwrap(), (429, Some("1".to_owned())));
            }
            LookupFault::ServiceUnavailableWithoutRetryAfter => {
                assert_eq!(answer.unwrap(), (503, None));
            }
            _ => assert!(answer.is_err(), "a reset, not an answer: {answer:?}"),
        }
        harness.clear_faults().await.unwrap();
        // The next lookup is answered normally (the fault was used once).
        let (status, _) = result_lookup(harness.sandbox()).await.unwrap();
        assert!(status < 500 && status != 429, "{fault:?}: {status}");
    }
}

#[tokio::test]
async fn code_checks_are_counted_at_the_check_endpoints_only() {
    let sandbox = Sandbox::start(SandboxConfig::default()).await.unwrap();
    let harness = SandboxHarness::new(sandbox, Provider::VerifyKit, |_| {
        Arc::new(InMemoryVerifier::new())
    })
    .with_send_endpoint("POST", "/v1.0/send-otp")
    .with_check_endpoint("POST", "/v1.0/check-otp");
    assert_eq!(
        harness.request_counts().await.unwrap(),
        RequestCounts::new(0, 0).with_checks(0)
    );
    let check = || {
        reqwest::Client::new()
            .post(format!(
                "{}/check-otp",
                harness.sandbox().verifykit_web_rest_url()
            ))
            .header(
                "x-vfk-server-key",
                harness.sandbox().config().verifykit_server_key.as_str(),
            )
            .header("x-vfk-forwarded-for", "203.0.113.7")
            .json(&serde_json::json!({ "reference": "nope", "code": "123456" }))
            .send()
    };
    check().await.unwrap();
    check().await.unwrap();
    // A lookup is not a code check.
    result_lookup(harness.sandbox()).await.unwrap();
    assert_eq!(
        harness.request_counts().await.unwrap(),
        RequestCounts::new(0, 3).with_checks(2)
    );
}

#[tokio::test]
async fn a_check_fault_no_request_used_fails_when_cleared() {
    let sandbox = Sandbox::start(SandboxConfig::default()).await.unwrap();
    let harness = SandboxHarness::new(sandbox, Provider::VerifyKit, |_| {
        Arc::new(InMemoryVerifier::new())
    })
    .with_check_endpoint("POST", "/v1.0/check-otp");
    let handle = Verification::new(ProviderId::new_static("verifykit"), "x", Channel::Sms);
    harness
        .inject_check_fault(&handle, CheckFault::AnswerLost)
        .await
        .unwrap();
    assert_eq!(harness.sandbox().pending_faults().len(), 1);
    let cleared = harness.clear_faults().await;
    assert!(
        matches!(&cleared, Err(HarnessError::Failed(m)) if m.contains("not used")),
        "{cleared:?}"
    );
    assert!(harness.sandbox().pending_faults().is_empty());
    // Cleared once, the next clear has nothing to complain of.
    harness.clear_faults().await.unwrap();
}

#[tokio::test]
async fn a_documented_error_the_sandbox_cannot_answer_fails_without_a_panic() {
    let sandbox = Sandbox::start(SandboxConfig::default()).await.unwrap();
    // A typo for 429: no HTTP status.
    let typo = DocumentedError::error(
        Answering::Send,
        4290,
        r#"{"code":429001,"message":"Too many requests"}"#,
        ErrorKind::RateLimited,
        "429001",
    );
    let harness = SandboxHarness::new(sandbox, Provider::VerifyKit, |_| {
        Arc::new(InMemoryVerifier::new())
    })
    .with_send_endpoint("POST", "/v1.0/send-otp")
    .with_check_endpoint("POST", "/v1.0/check-otp")
    .with_documented_errors([typo.clone()]);
    let handle = Verification::new(ProviderId::new_static("verifykit"), "x", Channel::Sms);
    for to in [AnswerTo::Send, AnswerTo::Check(&handle)] {
        let injected = harness.inject_documented_error(to, &typo).await;
        assert!(
            matches!(&injected, Err(HarnessError::Failed(m)) if m.contains("cannot give this answer") && m.contains("4290")),
            "{injected:?}"
        );
    }
    assert!(harness.sandbox().pending_faults().is_empty());
    // Nothing was queued, so nothing is left unused.
    harness.clear_faults().await.unwrap();
}

#[tokio::test]
async fn limits_and_secrets_come_from_the_sandboxs_configuration() {
    let sandbox = Arc::new(
        Sandbox::start(SandboxConfig {
            verifykit_max_attempts: 3,
            ..SandboxConfig::default()
        })
        .await
        .unwrap(),
    );
    let harness = |provider| {
        SandboxHarness::new(Arc::clone(&sandbox), provider, |_| {
            Arc::new(InMemoryVerifier::new())
        })
    };
    let handle = Verification::new(ProviderId::new_static("any"), "x", Channel::Sms);
    let limit = |provider| harness(provider).wrong_code_limit(&handle);
    assert_eq!(limit(Provider::VerifyKit), Some(3));
    assert_eq!(limit(Provider::Verifik), None);
    assert_eq!(limit(Provider::Verigator), Some(5));
    assert_eq!(limit(Provider::Twilio), Some(5));
    let overridden = harness(Provider::Verifik).with_wrong_code_limit(Some(2));
    assert_eq!(overridden.wrong_code_limit(&handle), Some(2));

    // A repeated check is harmless only on Verifik, which counts no wrong codes, and not
    // once a limit is named (a guard in front may count the repeat).
    let harmless = |provider| harness(provider).repeat_check_harmless(&handle);
    assert!(harmless(Provider::Verifik));
    for provider in [Provider::VerifyKit, Provider::Verigator, Provider::Twilio] {
        assert!(!harmless(provider), "{provider:?}");
    }
    assert!(!overridden.repeat_check_harmless(&handle));

    assert_eq!(
        harness(Provider::VerifyKit).secrets(),
        ["sandbox-server-key"]
    );
    assert_eq!(
        harness(Provider::Twilio).secrets(),
        ["sandbox-auth-token", "sandbox-api-key-secret"]
    );
    // Verigator's default password, `sandbox`, is named too: the suite does not search for a
    // credential that short, and its report says so.
    assert_eq!(harness(Provider::Verigator).secrets(), ["sandbox"]);
    let named = harness(Provider::Verigator).with_secrets(["a-longer-password"]);
    assert_eq!(named.secrets(), ["a-longer-password"]);
}

#[tokio::test]
async fn phone_setup_runs_first_and_its_requests_are_not_counted() {
    let sandbox = Arc::new(Sandbox::start(SandboxConfig::default()).await.unwrap());
    let prepared = Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen = Arc::clone(&prepared);
    let harness = SandboxHarness::new(Arc::clone(&sandbox), Provider::VerifyKit, |_| {
        Arc::new(InMemoryVerifier::new())
    })
    .with_send_endpoint("POST", "/v1.0/*")
    .with_phone_setup(move |sandbox, phone| {
        let seen = Arc::clone(&seen);
        Box::pin(async move {
            // A request to the provider, as registering a user would be.
            let (status, _) = send_otp(sandbox, phone).await.unwrap();
            assert!((200..300).contains(&status));
            seen.lock().unwrap().push(phone.clone());
            Ok(())
        })
    });
    let phone = harness.fresh_phone().await.unwrap();
    assert_eq!(*prepared.lock().unwrap(), *std::slice::from_ref(&phone));
    assert_eq!(
        sandbox.request_count(Provider::VerifyKit, "POST", "/v1.0/send-otp"),
        1
    );
    assert_eq!(
        harness.request_counts().await.unwrap(),
        RequestCounts::new(0, 0)
    );
    // The verifier's own request counts, matched by the wildcard endpoint.
    send_otp(&sandbox, &phone).await.unwrap();
    assert_eq!(
        harness.request_counts().await.unwrap(),
        RequestCounts::new(1, 1)
    );
    // Shared: the harness does not own the sandbox alone.
    assert!(harness.into_sandbox().is_none());
}

#[tokio::test]
async fn a_failed_phone_setup_fails_the_phone() {
    let sandbox = Sandbox::start(SandboxConfig::default()).await.unwrap();
    let harness = SandboxHarness::new(sandbox, Provider::Verifik, |_| {
        Arc::new(InMemoryVerifier::new())
    })
    .with_phone_setup(|_, _| Box::pin(async { Err(HarnessError::failed("no such user")) }));
    assert_eq!(
        harness.fresh_phone().await.unwrap_err(),
        HarnessError::failed("no such user")
    );
    assert!(harness.into_sandbox().is_some());
}

/// `POST {path}` to the sandbox's VerifyKit web REST host with `body`: the status and the
/// `Retry-After`.
async fn web_rest(
    sandbox: &SandboxHandle,
    path: &str,
    body: serde_json::Value,
) -> (u16, Option<String>) {
    let response = reqwest::Client::new()
        .post(format!("{}{path}", sandbox.verifykit_web_rest_url()))
        .header(
            "x-vfk-server-key",
            sandbox.config().verifykit_server_key.as_str(),
        )
        .header("x-vfk-forwarded-for", "203.0.113.7")
        .json(&body)
        .send()
        .await
        .unwrap();
    let retry_after = response
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    (response.status().as_u16(), retry_after)
}

/// A send's 503 is refused with `Retry-After` or left in doubt without it, both unprocessed;
/// a check's server error is a plain 503 that must be used.
#[tokio::test]
async fn send_503s_differ_by_retry_after_and_a_check_server_error_must_be_used() {
    let sandbox = Sandbox::start(SandboxConfig::default()).await.unwrap();
    let harness = SandboxHarness::new(sandbox, Provider::VerifyKit, |_| {
        Arc::new(InMemoryVerifier::new())
    })
    .with_send_endpoint("POST", "/v1.0/send-otp")
    .with_check_endpoint("POST", "/v1.0/check-otp");
    let phone = harness.fresh_phone().await.unwrap();
    let send = serde_json::json!({
        "phoneNumber": phone.national_number(),
        "countryCode": phone.region().unwrap(),
    });
    for (fault, retry_after) in [
        (SendFault::ServiceUnavailable, Some("1".to_owned())),
        (SendFault::ServiceUnavailableWithoutRetryAfter, None),
    ] {
        harness.inject_send_fault(fault).await.unwrap();
        let answer = web_rest(harness.sandbox(), "/send-otp", send.clone()).await;
        assert_eq!(answer, (503, retry_after), "{fault:?}");
        harness.clear_faults().await.unwrap();
    }
    assert!(harness.sandbox().messages(phone.e164()).is_empty());

    let handle = Verification::new(ProviderId::new_static("verifykit"), "x", Channel::Sms);
    harness
        .inject_check_fault(&handle, CheckFault::ServerError)
        .await
        .unwrap();
    let cleared = harness.clear_faults().await;
    assert!(
        matches!(&cleared, Err(HarnessError::Failed(m)) if m.contains("check fault was not used")),
        "{cleared:?}"
    );
    harness
        .inject_check_fault(&handle, CheckFault::ServerError)
        .await
        .unwrap();
    let check = serde_json::json!({ "reference": "nope", "code": "123456" });
    assert_eq!(
        web_rest(harness.sandbox(), "/check-otp", check).await,
        (503, None)
    );
    harness.clear_faults().await.unwrap();
}

#[tokio::test]
async fn requests_since_lists_the_paths_from_the_sandboxs_request_log() {
    let sandbox = Sandbox::start(SandboxConfig::default()).await.unwrap();
    let harness = SandboxHarness::new(sandbox, Provider::VerifyKit, |_| {
        Arc::new(InMemoryVerifier::new())
    })
    .with_send_endpoint("POST", "/v1.0/send-otp");
    let phone = harness.fresh_phone().await.unwrap();
    send_otp(harness.sandbox(), &phone).await.unwrap();
    let before = harness.request_counts().await.unwrap();
    assert_eq!(harness.requests_since(&before).await.unwrap(), []);
    send_otp(harness.sandbox(), &phone).await.unwrap();
    assert_eq!(
        harness.requests_since(&before).await.unwrap(),
        [RequestTarget::new("POST", "/v1.0/send-otp")]
    );
}

/// A Verifik client on the sandbox that puts a handle's reference into its URL path as given
/// (`GET /v2/phone-validations/{reference}`), and takes a 404, or an answer about another
/// validation, for "no such verification": a reference holding a `/`, `?`, `#`, `..` or
/// `%2F` reaches another path, or the real validation, and is answered as unknown all the same.
#[derive(Debug)]
struct JoinsUnescaped {
    base: String,
    token: String,
}

impl JoinsUnescaped {
    const PROVIDER: ProviderId = ProviderId::new_static("joiner");

    fn new(sandbox: &SandboxHandle) -> Self {
        Self {
            base: sandbox.verifik_url(),
            token: sandbox.config().verifik_token.clone(),
        }
    }
}

fn transport(err: &reqwest::Error) -> Error {
    Error::new(ErrorKind::Transport, err.to_string())
}

#[async_trait]
impl PhoneVerifier for JoinsUnescaped {
    fn provider(&self) -> ProviderId {
        Self::PROVIDER
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities::new().with_otp_channel(Channel::Sms)
    }

    async fn start(&self, request: &StartRequest) -> phone_verify_core::Result<Verification> {
        request.validate(&self.capabilities())?;
        let Some(phone) = request.phone.clone() else {
            return Err(Error::new(ErrorKind::InvalidInput, "no phone"));
        };
        let body = serde_json::json!({
            "phone": phone.national_number(),
            "countryCode": phone.calling_code(),
            "phoneGateway": "sms",
        });
        let answer: serde_json::Value = reqwest::Client::new()
            .post(format!("{}/phone-validations/manual", self.base))
            .bearer_auth(&self.token)
            .json(&body)
            .send()
            .await
            .map_err(|e| transport(&e))?
            .json()
            .await
            .map_err(|e| Error::new(ErrorKind::MaybeSent, e.to_string()))?;
        let Some(id) = answer.pointer("/data/_id").and_then(|id| id.as_str()) else {
            return Err(Error::new(ErrorKind::MaybeSent, "no validation id"));
        };
        Ok(Verification::new(Self::PROVIDER, id, Channel::Sms).with_phone(phone))
    }

    async fn check(
        &self,
        handle: &Verification,
        request: &CheckRequest,
    ) -> phone_verify_core::Result<CheckOutcome> {
        handle.ensure_provider(&Self::PROVIDER)?;
        let _ = request;
        let unknown = || {
            Ok(CheckOutcome::Rejected(Rejection::new(
                RejectReason::NotFound,
            )))
        };
        let response = reqwest::Client::new()
            .get(format!(
                "{}/phone-validations/{}",
                self.base, handle.reference
            ))
            .bearer_auth(&self.token)
            .send()
            .await
            .map_err(|e| transport(&e))?;
        if response.status() == reqwest::StatusCode::NOT_FOUND {
            return unknown();
        }
        let answer: serde_json::Value = response
            .json()
            .await
            .map_err(|e| Error::new(ErrorKind::Decode, e.to_string()))?;
        // An answer about another validation than the handle's: none of its own.
        if answer.pointer("/data/_id").and_then(|id| id.as_str()) != Some(&handle.reference) {
            return unknown();
        }
        Ok(CheckOutcome::Pending)
    }
}

#[tokio::test]
async fn a_reference_put_into_a_path_unescaped_fails_the_hostile_handle_check() {
    let sandbox = Sandbox::start(SandboxConfig::default()).await.unwrap();
    let verifier = JoinsUnescaped::new(&sandbox);
    let harness = SandboxHarness::new(sandbox, Provider::Verifik, |s| {
        Arc::new(JoinsUnescaped::new(s))
    })
    .with_send_endpoint("POST", "/v2/phone-validations/manual");
    let report = run(&verifier, None, &harness).await;
    let result = report.get("input.hostile_handle_refused").unwrap();
    assert_eq!(result.status, Status::Failed, "{report}");
    let detail = result.detail.as_deref().unwrap_or_default();
    // Each shape reached the real validation's path, or one beside it; the long reference,
    // which holds nothing to escape, did not.
    for shape in ["a `/`", "a `?`", "a `#`", "`..`", "`%2F`"] {
        assert!(
            detail.contains(&format!("a reference with {shape} reached GET /")),
            "{shape}: {detail}"
        );
    }
    assert!(!detail.contains("512+ characters"), "{detail}");
    assert!(
        detail.contains("put a reference in one percent-encoded path segment"),
        "{detail}"
    );
}
