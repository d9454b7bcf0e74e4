//! Verifik: manual SMS validations (`POST phone-validations/manual`), checks
//! (`PUT phone-validations`) and session resolution (`GET phone-validations/{id}`).

use std::sync::Arc;

use anyhow::{Context as _, Result, anyhow, ensure};
use async_trait::async_trait;
use phone_verify_core::{
    Code, PhoneVerifier, PhoneVerifierExt as _, RequestContext, SessionId, SessionResolver,
    StartRequest, Verification,
};
use phone_verify_sandbox::{SandboxConfig, SandboxHandle};
use phone_verify_verifik::{Verifik, VerifikBuilder};
use reqwest::Url;
use reqwest::header::{AUTHORIZATION, HeaderValue};
use serde::{Deserialize, Serialize};

use super::{Op, Phones, Side, Target, boxed, codes_by_reference, prepare, sdk_check_op};

/// The verifier measured, on the sandbox at `base_url` with `config`'s token (building it
/// sends nothing).
pub(crate) fn sdk(base_url: &str, config: &SandboxConfig) -> Result<Verifik> {
    VerifikBuilder::sandbox(base_url)
        .token(config.verifik_token.clone())
        .build()
        .context("building the Verifik verifier")
}

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

/// The hand-written client: the URL parsed and the header value built once.
#[derive(Clone, Debug)]
struct Raw {
    client: reqwest::Client,
    validations_url: Url,
    authorization: HeaderValue,
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
        let sdk = sdk(&sandbox.base_url(), sandbox.config())?;
        let raw = Raw::new(super::raw_client()?, &sandbox.verifik_url(), &token)?;
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

impl RawCheck {
    /// The check of `handle` with `code`, as a hand-written client keeps it.
    fn of(handle: &Verification, code: &str) -> Result<Self> {
        let phone = handle.phone.as_ref().context("no phone")?;
        Ok(Self {
            national: phone.national_number().to_owned(),
            country_code: phone.calling_code().to_owned(),
            otp: Otp::new(code)?,
        })
    }
}

impl Raw {
    /// A client of the Verifik API at `verifik_url`, with `token`.
    fn new(client: reqwest::Client, verifik_url: &str, token: &str) -> Result<Self> {
        Ok(Self {
            client,
            validations_url: super::parse_url(&format!("{verifik_url}/phone-validations"))?,
            authorization: super::secret_value(&format!("Bearer {token}"))?,
        })
    }

    /// `PUT phone-validations`: validated, or an error.
    async fn check(&self, item: &RawCheck) -> Result<()> {
        let answer: Data<Validation> = self
            .client
            .put(self.validations_url.clone())
            .header(AUTHORIZATION, self.authorization.clone())
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
    }

    /// `GET phone-validations/{session}`: validated, for the phone whose national number is
    /// `national`, or an error.
    async fn resolve(&self, session: &str, national: &str) -> Result<()> {
        let mut url = self.validations_url.clone();
        url.path_segments_mut()
            .map_err(|()| anyhow!("the Verifik URL cannot take a path"))?
            .push(session);
        let answer: Data<Validation> = self
            .client
            .get(url)
            .header(AUTHORIZATION, self.authorization.clone())
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        let v = answer.data;
        ensure!(v.status == "validated", "not validated");
        ensure!(
            v.phone.as_deref() == Some(national) && v.country_code.is_some(),
            "another phone"
        );
        Ok(())
    }
}

#[async_trait]
impl Target for VerifikTarget {
    fn name(&self) -> &'static str {
        "verifik"
    }

    async fn check_op(&self, side: Side, n: usize) -> Result<Op> {
        let started = self.started(n).await?;
        match side {
            Side::Sdk => Ok(sdk_check_op(self.sdk.clone(), started, None)),
            Side::Raw | Side::Twin => {
                let items: Vec<RawCheck> = started
                    .iter()
                    .map(|(h, code)| RawCheck::of(h, code))
                    .collect::<Result<_>>()?;
                let items = Arc::new(items);
                let raw = Arc::clone(self.raw_of(side));
                Ok(Arc::new(move |i| {
                    let raw = Arc::clone(&raw);
                    let items = Arc::clone(&items);
                    boxed(async move { raw.check(&items[i]).await })
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
                        raw.resolve(session.as_str(), national).await
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

#[cfg(test)]
mod tests {
    use phone_verify_sandbox::{Sandbox, SandboxConfig};

    use super::*;
    use crate::targets::tests::Capture;

    #[test]
    fn the_raw_check_and_resolve_send_what_the_sdk_sends() {
        let rt = crate::runner::runtime("test-verifik", 2).unwrap();
        rt.block_on(async {
            let sandbox = Arc::new(Sandbox::start(SandboxConfig::seeded(1)).await.unwrap());
            let target =
                VerifikTarget::new(Arc::clone(&sandbox), Arc::new(Phones::turkish())).unwrap();
            let (handle, code) = target.started(1).await.unwrap().remove(0);
            let capture = Capture::new().await;
            let token = sandbox.config().verifik_token.clone();
            let raw = Arc::new(
                Raw::new(
                    crate::targets::raw_client().unwrap(),
                    &capture.url(&sandbox.verifik_url(), &sandbox),
                    &token,
                )
                .unwrap(),
            );
            let sdk = Arc::new(
                VerifikBuilder::sandbox(capture.base())
                    .token(token)
                    .build()
                    .unwrap(),
            );

            let item = RawCheck::of(&handle, &code).unwrap();
            let raw_check = Arc::clone(&raw);
            let raw_request = capture
                .request_of(async move { raw_check.check(&item).await })
                .await;
            let sdk_check = Arc::clone(&sdk);
            let sdk_request = capture
                .request_of(async move {
                    sdk_check
                        .check_code(&handle, &Code::new(&code).unwrap())
                        .await
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
            assert!(raw_request.line.starts_with("PUT "), "{raw_request:?}");

            let session = "64b7f0c2a1b2c3d4e5f60718";
            let raw_request = capture
                .request_of(async move { raw.resolve(session, "5321234567").await })
                .await;
            let sdk_request = capture
                .request_of(async move {
                    let session = SessionId::new(session).unwrap();
                    sdk.resolve(&session, &RequestContext::new()).await
                })
                .await;
            assert_eq!(
                raw_request.names(),
                ["authorization", "accept", "user-agent", "host"],
                "the raw side's own header order"
            );
            assert_eq!(raw_request.clone().sorted(), sdk_request.sorted());
            assert!(
                raw_request
                    .line
                    .starts_with(&format!("GET /verifik/v2/phone-validations/{session} ")),
                "{raw_request:?}"
            );
        });
    }
}
