//! VerifyKit: SMS codes (`send-otp`, `check-otp`) and session resolution (`result`).

use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;

use anyhow::{Context as _, Result, bail, ensure};
use async_trait::async_trait;
use phone_verify_core::{
    CheckRequest, Code, PhoneVerifier, RequestContext, SessionId, SessionResolver, StartRequest,
    Verification,
};
use phone_verify_sandbox::SandboxHandle;
use phone_verify_verifykit::{VerifyKit, VerifyKitBuilder};
use serde::{Deserialize, Serialize};

use super::{Op, Phones, Side, Target, boxed, codes_by_reference, prepare, sdk_check_op};

/// The end user's IP sent with every request (`X-Vfk-Forwarded-For`), on both sides.
const END_USER_IP: IpAddr = IpAddr::V4(Ipv4Addr::new(203, 0, 113, 7));

/// VerifyKit against the sandbox.
#[derive(Debug)]
pub(crate) struct VerifyKitTarget {
    sandbox: Arc<SandboxHandle>,
    sdk: Arc<VerifyKit>,
    raw: Arc<Raw>,
    /// The same on a client of its own: the other side of an A/A run.
    twin: Arc<Raw>,
    phones: Arc<Phones>,
}

/// The hand-written client: a bare `reqwest::Client`, the URLs and the key.
#[derive(Clone, Debug)]
struct Raw {
    client: reqwest::Client,
    check_otp_url: String,
    result_url: String,
    server_key: String,
    end_user_ip: String,
}

impl VerifyKitTarget {
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
        let sdk = VerifyKitBuilder::sandbox(&sandbox.base_url())
            .server_key(sandbox.config().verifykit_server_key.clone())
            .build()
            .context("building the VerifyKit verifier")?;
        let raw = Raw {
            client: super::raw_client()?,
            check_otp_url: format!("{}/check-otp", sandbox.verifykit_web_rest_url()),
            result_url: format!("{}/result", sandbox.verifykit_api_url()),
            server_key: sandbox.config().verifykit_server_key.clone(),
            end_user_ip: END_USER_IP.to_string(),
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

    fn context() -> RequestContext {
        RequestContext::new().end_user_ip(END_USER_IP)
    }

    /// `n` SMS verifications started with the SDK, with their codes.
    async fn started(&self, n: usize) -> Result<Vec<(Verification, String)>> {
        let sdk = Arc::clone(&self.sdk);
        let phones = Arc::clone(&self.phones);
        let handles = prepare(n, 64, move |_| {
            let sdk = Arc::clone(&sdk);
            let phone = phones.next();
            async move {
                let request = StartRequest::sms(phone?).end_user_ip(END_USER_IP);
                Ok(sdk.start(&request).await?)
            }
        })
        .await?;
        let codes = codes_by_reference(&self.sandbox);
        handles
            .into_iter()
            .map(|h| {
                let code = codes
                    .get(&h.reference)
                    .cloned()
                    .with_context(|| format!("no code was sent for reference {}", h.reference))?;
                Ok((h, code))
            })
            .collect()
    }
}

// The wire shapes a hand-written client would declare.

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CheckOtpBody<'a> {
    phone_number: &'a str,
    country_code: &'a str,
    reference: &'a str,
    code: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ResultBody<'a> {
    session_id: &'a str,
}

#[derive(Deserialize)]
struct Envelope<T> {
    result: Option<T>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CheckAnswer {
    validation_status: bool,
    session_id: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)] // read as a hand-written client would, not all used
struct ResultAnswer {
    phone_number: String,
    validation_type: Option<String>,
    validation_date: Option<String>,
    country_code: Option<String>,
}

/// A raw check: `POST check-otp`, the session id on success.
struct RawCheck {
    phone: String,
    country: String,
    reference: String,
    code: String,
}

#[async_trait]
impl Target for VerifyKitTarget {
    fn name(&self) -> &'static str {
        "verifykit"
    }

    fn resolves(&self) -> bool {
        true
    }

    async fn check_op(&self, side: Side, n: usize) -> Result<Op> {
        let started = self.started(n).await?;
        match side {
            Side::Sdk => Ok(sdk_check_op(
                self.sdk.clone(),
                started,
                Some(Self::context()),
            )),
            Side::Raw | Side::Twin => {
                let items: Vec<RawCheck> = started
                    .into_iter()
                    .map(|(h, code)| {
                        Ok(RawCheck {
                            phone: h.phone.as_ref().context("no phone")?.e164().to_owned(),
                            country: h
                                .extra_str(phone_verify_verifykit::EXTRA_COUNTRY_CODE)
                                .context("no country")?
                                .to_owned(),
                            reference: h.reference.clone(),
                            code,
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
                        let answer: Envelope<CheckAnswer> = raw
                            .client
                            .post(&raw.check_otp_url)
                            .header("x-vfk-server-key", &raw.server_key)
                            .header("x-vfk-forwarded-for", &raw.end_user_ip)
                            .json(&CheckOtpBody {
                                phone_number: &item.phone,
                                country_code: &item.country,
                                reference: &item.reference,
                                code: &item.code,
                            })
                            .send()
                            .await?
                            .error_for_status()?
                            .json()
                            .await?;
                        match answer.result {
                            Some(r) if r.validation_status && r.session_id.is_some() => Ok(()),
                            _ => bail!("not verified"),
                        }
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
                let request = CheckRequest::code(Code::new(&code)?).context(Self::context());
                let outcome = sdk.check(&handle, &request).await?;
                let session = outcome
                    .verified()
                    .and_then(|v| v.session_id.clone())
                    .context("a verified check without a session")?;
                let phone = handle.phone.context("no phone")?.e164().to_owned();
                Ok((session, phone))
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
                        let (session, phone) = &sessions[i % sessions.len()];
                        let session = SessionId::new(session.as_str())?;
                        let verified = resolver.resolve(&session, &Self::context()).await?;
                        ensure!(verified.phone.e164() == phone, "another phone");
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
                        let (session, phone) = &sessions[i % sessions.len()];
                        let answer: Envelope<ResultAnswer> = raw
                            .client
                            .post(&raw.result_url)
                            .header("x-vfk-server-key", &raw.server_key)
                            .header("x-vfk-forwarded-for", &raw.end_user_ip)
                            .json(&ResultBody {
                                session_id: session.as_str(),
                            })
                            .send()
                            .await?
                            .error_for_status()?
                            .json()
                            .await?;
                        let result = answer.result.context("no result")?;
                        ensure!(&result.phone_number == phone, "another phone");
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
