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
use serde::Deserialize;

use super::{Op, Phones, Side, Target, boxed, codes_by_reference, prepare, sdk_check_op};

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

/// The hand-written client.
#[derive(Clone, Debug)]
struct Raw {
    client: reqwest::Client,
    check_url: String,
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
        let sdk = TwilioBuilder::sandbox(&sandbox.base_url())
            .build()
            .context("building the Twilio verifier")?;
        let raw = Raw {
            client: super::raw_client()?,
            check_url: format!(
                "{}/Services/{SANDBOX_SERVICE_SID}/VerificationCheck",
                sandbox.twilio_url()
            ),
        };
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

    fn resolves(&self) -> bool {
        false
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
                        let answer: CheckAnswer = raw
                            .client
                            .post(&raw.check_url)
                            .basic_auth(SANDBOX_ACCOUNT_SID, Some(SANDBOX_AUTH_TOKEN))
                            .form(&[("Code", code.as_str()), ("VerificationSid", sid.as_str())])
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
