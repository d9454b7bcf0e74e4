//! Twilio Verify v2: verifications on the sandbox's default service
//! (`POST Services/{ServiceSid}/Verifications`, form-encoded, HTTP Basic), checked with
//! `POST Services/{ServiceSid}/VerificationCheck`. Twilio has no sessions: `check` only.

use std::sync::Arc;

use anyhow::{Context as _, Result, ensure};
use async_trait::async_trait;
use phone_verify_core::{PhoneVerifier, SessionResolver, StartRequest, Verification};
use phone_verify_sandbox::SandboxHandle;
use phone_verify_twilio::{
    SANDBOX_ACCOUNT_SID, SANDBOX_AUTH_TOKEN, SANDBOX_SERVICE_SID, Twilio, TwilioBuilder,
};
use reqwest::Url;
use reqwest::header::{AUTHORIZATION, HeaderValue};
use serde::Deserialize;

use super::{Op, Phones, Side, Target, boxed, codes_by_reference, prepare, sdk_check_op};

/// The verifier measured, on the sandbox at `base_url` (building it sends nothing).
pub(crate) fn sdk(base_url: &str) -> Result<Twilio> {
    TwilioBuilder::sandbox(base_url)
        .build()
        .context("building the Twilio verifier")
}

/// Twilio against the sandbox.
#[derive(Debug)]
pub(crate) struct TwilioTarget {
    sandbox: Arc<SandboxHandle>,
    sdk: Arc<Twilio>,
    raw: Arc<Raw>,
    /// The same on a client of its own: the other side of an A/A run.
    twin: Arc<Raw>,
    phones: Arc<Phones>,
}

/// The hand-written client: the URL parsed and the credentials encoded once.
#[derive(Clone, Debug)]
struct Raw {
    client: reqwest::Client,
    check_url: Url,
    authorization: HeaderValue,
}

impl Raw {
    /// A client of the Twilio API at `twilio_url` (the sandbox's default service).
    fn new(client: reqwest::Client, twilio_url: &str) -> Result<Self> {
        let authorization =
            super::basic_authorization(&client, SANDBOX_ACCOUNT_SID, SANDBOX_AUTH_TOKEN)?;
        Ok(Self {
            client,
            check_url: super::parse_url(&format!(
                "{twilio_url}/Services/{SANDBOX_SERVICE_SID}/VerificationCheck"
            ))?,
            authorization,
        })
    }

    /// `POST …/VerificationCheck` of verification `sid` with `code`: approved, or an error.
    async fn check(&self, sid: &str, code: &str) -> Result<()> {
        let answer: CheckAnswer = self
            .client
            .post(self.check_url.clone())
            .header(AUTHORIZATION, self.authorization.clone())
            .form(&[("Code", code), ("VerificationSid", sid)])
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        ensure!(
            answer.valid && answer.status == "approved",
            "not verified: {}",
            answer.status
        );
        Ok(())
    }
}

impl TwilioTarget {
    /// The raw client of `side` (the twin's for an A/A run's second side).
    fn raw_of(&self, side: Side) -> &Arc<Raw> {
        if side == Side::Twin {
            &self.twin
        } else {
            &self.raw
        }
    }

    /// A target on `sandbox`, with its account and default service.
    pub(crate) fn new(sandbox: Arc<SandboxHandle>, phones: Arc<Phones>) -> Result<Self> {
        let sdk = sdk(&sandbox.base_url())?;
        let raw = Raw::new(super::raw_client()?, &sandbox.twilio_url())?;
        let twin = Raw {
            client: super::raw_client()?,
            ..raw.clone()
        };
        Ok(Self {
            sandbox,
            sdk: Arc::new(sdk),
            raw: Arc::new(raw),
            twin: Arc::new(twin),
            phones,
        })
    }

    /// `n` SMS verifications started with the SDK, with their codes.
    async fn started(&self, n: usize) -> Result<Vec<(Verification, String)>> {
        let sdk = Arc::clone(&self.sdk);
        let phones = Arc::clone(&self.phones);
        let handles = prepare(n, 64, move |_| {
            let sdk = Arc::clone(&sdk);
            let phone = phones.next();
            async move { Ok(sdk.start(&StartRequest::sms(phone?)).await?) }
        })
        .await?;
        let codes = codes_by_reference(&self.sandbox);
        handles
            .into_iter()
            .map(|h| {
                let code = codes.get(&h.reference).cloned().with_context(|| {
                    format!("no code was sent for verification {}", h.reference)
                })?;
                Ok((h, code))
            })
            .collect()
    }
}

// The wire shape a hand-written client would declare.

#[derive(Deserialize)]
struct CheckAnswer {
    status: String,
    valid: bool,
}

#[async_trait]
impl Target for TwilioTarget {
    fn name(&self) -> &'static str {
        "twilio"
    }

    async fn check_op(&self, side: Side, n: usize) -> Result<Op> {
        let started = self.started(n).await?;
        match side {
            Side::Sdk => Ok(sdk_check_op(self.sdk.clone(), started, None)),
            Side::Raw | Side::Twin => {
                let items: Vec<(String, String)> = started
                    .into_iter()
                    .map(|(h, code)| (h.reference, code))
                    .collect();
                let items = Arc::new(items);
                let raw = Arc::clone(self.raw_of(side));
                Ok(Arc::new(move |i| {
                    let raw = Arc::clone(&raw);
                    let items = Arc::clone(&items);
                    boxed(async move {
                        let (sid, code) = &items[i];
                        raw.check(sid, code).await
                    })
                }))
            }
        }
    }

    async fn resolve_op(&self, _side: Side, _pool: usize) -> Result<Op> {
        anyhow::bail!("Twilio has no session resolution")
    }

    fn verifier(&self) -> Arc<dyn PhoneVerifier> {
        self.sdk.clone()
    }

    fn resolver(&self) -> Option<Arc<dyn SessionResolver>> {
        None
    }
}

#[cfg(test)]
mod tests {
    use phone_verify_core::{CheckRequest, Code};
    use phone_verify_sandbox::{Sandbox, SandboxConfig};

    use super::*;
    use crate::targets::tests::Capture;

    #[test]
    fn the_raw_check_sends_what_the_sdk_sends() {
        let rt = crate::runner::runtime("test-twilio", 2).unwrap();
        rt.block_on(async {
            let sandbox = Arc::new(Sandbox::start(SandboxConfig::seeded(1)).await.unwrap());
            let target =
                TwilioTarget::new(Arc::clone(&sandbox), Arc::new(Phones::turkish())).unwrap();
            let (handle, code) = target.started(1).await.unwrap().remove(0);
            let capture = Capture::new().await;
            let raw = Raw::new(
                crate::targets::raw_client().unwrap(),
                &capture.url(&sandbox.twilio_url(), &sandbox),
            )
            .unwrap();
            let sdk = TwilioBuilder::sandbox(capture.base()).build().unwrap();
            let (sid, raw_code) = (handle.reference.clone(), code.clone());
            let raw_request = capture
                .request_of(async move { raw.check(&sid, &raw_code).await })
                .await;
            let sdk_request = capture
                .request_of(async move {
                    let request = CheckRequest::code(Code::new(&code).unwrap());
                    sdk.check(&handle, &request).await
                })
                .await;
            assert_eq!(
                raw_request.names(),
                [
                    "authorization",
                    "content-type",
                    "accept",
                    "user-agent",
                    "host",
                    "content-length"
                ],
                "the raw side's own header order"
            );
            assert_eq!(raw_request.clone().sorted(), sdk_request.sorted());
            assert!(
                raw_request
                    .headers
                    .iter()
                    .any(|(name, value)| name == "authorization" && value.starts_with("Basic ")),
                "{raw_request:?}"
            );
        });
    }
}
