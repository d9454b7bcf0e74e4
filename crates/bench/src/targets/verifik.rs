//! Verifik: manual SMS validations (`POST phone-validations/manual`), checks
//! (`PUT phone-validations`) and session resolution (`GET phone-validations/{id}`).

use std::sync::Arc;

use anyhow::{Context as _, Result, ensure};
use async_trait::async_trait;
use phone_verify_core::{
    Code, PhoneVerifier, PhoneVerifierExt as _, RequestContext, SessionId, SessionResolver,
    StartRequest, Verification,
};
use phone_verify_sandbox::SandboxHandle;
use phone_verify_verifik::{Verifik, VerifikBuilder};
use serde::{Deserialize, Serialize};

use super::{Op, Phones, Side, Target, boxed, codes_by_reference, prepare, sdk_check_op};

/// Verifik against the sandbox.
#[derive(Debug)]
pub(crate) struct VerifikTarget {
    sandbox: Arc<SandboxHandle>,
    sdk: Arc<Verifik>,
    raw: Arc<Raw>,
    /// The same on a client of its own: the other side of an A/A run.
    twin: Arc<Raw>,
    phones: Arc<Phones>,
}

/// The hand-written client.
#[derive(Clone, Debug)]
struct Raw {
    client: reqwest::Client,
    validations_url: String,
    authorization: String,
}

impl VerifikTarget {
    /// The raw client of `side` (the twin's for an A/A run's second side).
    fn raw_of(&self, side: Side) -> &Arc<Raw> {
        if side == Side::Twin {
            &self.twin
        } else {
            &self.raw
        }
    }

    /// A target on `sandbox`.
    pub(crate) fn new(sandbox: Arc<SandboxHandle>, phones: Arc<Phones>) -> Result<Self> {
        let token = sandbox.config().verifik_token.clone();
        let sdk = VerifikBuilder::sandbox(&sandbox.base_url())
            .token(token.clone())
            .build()
            .context("building the Verifik verifier")?;
        let raw = Raw {
            client: super::raw_client()?,
            validations_url: format!("{}/phone-validations", sandbox.verifik_url()),
            authorization: format!("Bearer {token}"),
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

    /// `n` SMS validations started with the SDK, with their codes.
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
                let code = codes
                    .get(&h.reference)
                    .cloned()
                    .with_context(|| format!("no code was sent for validation {}", h.reference))?;
                Ok((h, code))
            })
            .collect()
    }
}

// The wire shapes a hand-written client would declare.

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ValidateBody<'a> {
    phone: &'a str,
    country_code: &'a str,
    otp: &'a Otp,
    phone_gateway: &'a str,
}

/// `otp` as the SDK sends it: a JSON number, or a string when a number would drop a leading
/// zero (the sandbox compares codes exactly).
#[derive(Serialize)]
#[serde(untagged)]
enum Otp {
    Number(u64),
    Text(String),
}

impl Otp {
    fn new(code: &str) -> Result<Self> {
        if code.starts_with('0') {
            Ok(Self::Text(code.to_owned()))
        } else {
            Ok(Self::Number(
                code.parse().context("a code that is not a number")?,
            ))
        }
    }
}

#[derive(Deserialize)]
struct Data<T> {
    data: T,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Validation {
    #[serde(rename = "_id")]
    id: String,
    status: String,
    country_code: Option<String>,
    phone: Option<String>,
}

/// A raw check's request.
struct RawCheck {
    national: String,
    country_code: String,
    otp: Otp,
}

#[async_trait]
impl Target for VerifikTarget {
    fn name(&self) -> &'static str {
        "verifik"
    }

    fn resolves(&self) -> bool {
        true
    }

    async fn check_op(&self, side: Side, n: usize) -> Result<Op> {
        let started = self.started(n).await?;
        match side {
            Side::Sdk => Ok(sdk_check_op(self.sdk.clone(), started, None)),
            Side::Raw | Side::Twin => {
                let items: Vec<RawCheck> = started
                    .into_iter()
                    .map(|(h, code)| {
                        let phone = h.phone.as_ref().context("no phone")?;
                        Ok(RawCheck {
                            national: phone.national_number().to_owned(),
                            country_code: phone.calling_code().to_owned(),
                            otp: Otp::new(&code)?,
                        })
                    })
                    .collect::<Result<_>>()?;
                let items = Arc::new(items);
                let raw = Arc::clone(self.raw_of(side));
                Ok(Arc::new(move |i| {
                    let raw = Arc::clone(&raw);
                    let items = Arc::clone(&items);
                    boxed(async move {
                        let item = &items[i];
                        let answer: Data<Validation> = raw
                            .client
                            .put(&raw.validations_url)
                            .header("authorization", &raw.authorization)
                            .json(&ValidateBody {
                                phone: &item.national,
                                country_code: &item.country_code,
                                otp: &item.otp,
                                phone_gateway: "sms",
                            })
                            .send()
                            .await?
                            .error_for_status()?
                            .json()
                            .await?;
                        ensure!(
                            answer.data.status == "validated" && !answer.data.id.is_empty(),
                            "not validated"
                        );
                        Ok(())
                    })
                }))
            }
        }
    }

    async fn resolve_op(&self, side: Side, pool: usize) -> Result<Op> {
        let started = self.started(pool).await?;
        let sdk = Arc::clone(&self.sdk);
        let sessions = prepare(pool, 64, move |i| {
            let sdk = Arc::clone(&sdk);
            let (handle, code) = started[i].clone();
            async move {
                let outcome = sdk.check_code(&handle, &Code::new(&code)?).await?;
                let session = outcome
                    .verified()
                    .and_then(|v| v.session_id.clone())
                    .context("a verified check without a session")?;
                let phone = handle.phone.context("no phone")?;
                Ok((
                    session,
                    phone.e164().to_owned(),
                    phone.national_number().to_owned(),
                ))
            }
        })
        .await?;
        let sessions = Arc::new(sessions);
        match side {
            Side::Sdk => {
                let resolver: Arc<dyn SessionResolver> = self.sdk.clone();
                Ok(Arc::new(move |i| {
                    let resolver = Arc::clone(&resolver);
                    let sessions = Arc::clone(&sessions);
                    boxed(async move {
                        let (session, e164, _) = &sessions[i % sessions.len()];
                        let session = SessionId::new(session.as_str())?;
                        let verified = resolver.resolve(&session, &RequestContext::new()).await?;
                        ensure!(verified.phone.e164() == e164, "another phone");
                        Ok(())
                    })
                }))
            }
            Side::Raw | Side::Twin => {
                let raw = Arc::clone(self.raw_of(side));
                Ok(Arc::new(move |i| {
                    let raw = Arc::clone(&raw);
                    let sessions = Arc::clone(&sessions);
                    boxed(async move {
                        let (session, _, national) = &sessions[i % sessions.len()];
                        let answer: Data<Validation> = raw
                            .client
                            .get(format!("{}/{session}", raw.validations_url))
                            .header("authorization", &raw.authorization)
                            .send()
                            .await?
                            .error_for_status()?
                            .json()
                            .await?;
                        let v = answer.data;
                        ensure!(v.status == "validated", "not validated");
                        ensure!(
                            v.phone.as_deref() == Some(national.as_str())
                                && v.country_code.is_some(),
                            "another phone"
                        );
                        Ok(())
                    })
                }))
            }
        }
    }

    fn verifier(&self) -> Arc<dyn PhoneVerifier> {
        self.sdk.clone()
    }

    fn resolver(&self) -> Option<Arc<dyn SessionResolver>> {
        Some(self.sdk.clone())
    }
}
