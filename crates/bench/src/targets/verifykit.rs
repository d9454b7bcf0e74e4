//! VerifyKit: SMS codes (`send-otp`, `check-otp`) and session resolution (`result`).

use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;

use anyhow::{Context as _, Result, bail, ensure};
use async_trait::async_trait;
use phone_verify_core::{
    CheckRequest, Code, PhoneVerifier, RequestContext, SessionId, SessionResolver, StartRequest,
    Verification,
};
use phone_verify_sandbox::{SandboxConfig, SandboxHandle};
use phone_verify_verifykit::{VerifyKit, VerifyKitBuilder};
use reqwest::Url;
use reqwest::header::{HeaderName, HeaderValue};
use serde::{Deserialize, Serialize};

use super::{Op, Phones, Side, Target, boxed, codes_by_reference, prepare, sdk_check_op};

/// The end user's IP sent with every request (`X-Vfk-Forwarded-For`), on both sides.
const END_USER_IP: IpAddr = IpAddr::V4(Ipv4Addr::new(203, 0, 113, 7));

/// The verifier measured, on the sandbox at `base_url` with `config`'s server key (building it
/// sends nothing).
pub(crate) fn sdk(base_url: &str, config: &SandboxConfig) -> Result<VerifyKit> {
    VerifyKitBuilder::sandbox(base_url)
        .server_key(config.verifykit_server_key.clone())
        .build()
        .context("building the VerifyKit verifier")
}

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

/// VerifyKit's server key header.
const SERVER_KEY: HeaderName = HeaderName::from_static("x-vfk-server-key");
/// VerifyKit's end-user IP header.
const FORWARDED_FOR: HeaderName = HeaderName::from_static("x-vfk-forwarded-for");

/// The hand-written client: a bare `reqwest::Client`, the URLs parsed and the header values
/// built once.
#[derive(Clone, Debug)]
struct Raw {
    client: reqwest::Client,
    check_otp_url: Url,
    result_url: Url,
    server_key: HeaderValue,
    end_user_ip: HeaderValue,
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
        let sdk = sdk(&sandbox.base_url(), sandbox.config())?;
        let raw = Raw::new(
            super::raw_client()?,
            &sandbox.verifykit_web_rest_url(),
            &sandbox.verifykit_api_url(),
            &sandbox.config().verifykit_server_key,
        )?;
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

impl RawCheck {
    /// The check of `handle` with `code`, as a hand-written client keeps it.
    fn of(handle: &Verification, code: String) -> Result<Self> {
        Ok(Self {
            phone: handle.phone.as_ref().context("no phone")?.e164().to_owned(),
            country: handle
                .extra_str(phone_verify_verifykit::EXTRA_COUNTRY_CODE)
                .context("no country")?
                .to_owned(),
            reference: handle.reference.clone(),
            code,
        })
    }
}

impl Raw {
    /// A client of the web-rest API at `web_rest_url` and the API at `api_url`, with
    /// `server_key`.
    fn new(
        client: reqwest::Client,
        web_rest_url: &str,
        api_url: &str,
        server_key: &str,
    ) -> Result<Self> {
        Ok(Self {
            client,
            check_otp_url: super::parse_url(&format!("{web_rest_url}/check-otp"))?,
            result_url: super::parse_url(&format!("{api_url}/result"))?,
            server_key: super::secret_value(server_key)?,
            end_user_ip: HeaderValue::from_str(&END_USER_IP.to_string())?,
        })
    }

    /// `POST check-otp`: verified with a session, or an error.
    async fn check(&self, item: &RawCheck) -> Result<()> {
        let answer: Envelope<CheckAnswer> = self
            .client
            .post(self.check_otp_url.clone())
            .header(SERVER_KEY, self.server_key.clone())
            .header(FORWARDED_FOR, self.end_user_ip.clone())
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
    }

    /// `POST result` of `session`: resolved to `phone` (E.164), or an error.
    async fn resolve(&self, session: &str, phone: &str) -> Result<()> {
        let answer: Envelope<ResultAnswer> = self
            .client
            .post(self.result_url.clone())
            .header(SERVER_KEY, self.server_key.clone())
            .header(FORWARDED_FOR, self.end_user_ip.clone())
            .json(&ResultBody {
                session_id: session,
            })
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        let result = answer.result.context("no result")?;
        ensure!(result.phone_number == phone, "another phone");
        Ok(())
    }
}

#[async_trait]
impl Target for VerifyKitTarget {
    fn name(&self) -> &'static str {
        "verifykit"
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
                    .map(|(h, code)| RawCheck::of(&h, code))
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
                        raw.resolve(session.as_str(), phone).await
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
        let rt = crate::runner::runtime("test-verifykit", 2).unwrap();
        rt.block_on(async {
            let sandbox = Arc::new(Sandbox::start(SandboxConfig::seeded(1)).await.unwrap());
            let target =
                VerifyKitTarget::new(Arc::clone(&sandbox), Arc::new(Phones::turkish())).unwrap();
            let (handle, code) = target.started(1).await.unwrap().remove(0);
            let capture = Capture::new().await;
            let raw = Arc::new(
                Raw::new(
                    crate::targets::raw_client().unwrap(),
                    &capture.url(&sandbox.verifykit_web_rest_url(), &sandbox),
                    &capture.url(&sandbox.verifykit_api_url(), &sandbox),
                    &sandbox.config().verifykit_server_key,
                )
                .unwrap(),
            );
            let sdk = Arc::new(
                VerifyKitBuilder::sandbox(capture.base())
                    .server_key(sandbox.config().verifykit_server_key.clone())
                    .build()
                    .unwrap(),
            );

            let item = RawCheck::of(&handle, code.clone()).unwrap();
            let raw_check = Arc::clone(&raw);
            let raw_request = capture
                .request_of(async move { raw_check.check(&item).await })
                .await;
            let sdk_check = Arc::clone(&sdk);
            let sdk_request = capture
                .request_of(async move {
                    let request = CheckRequest::code(Code::new(&code).unwrap())
                        .context(VerifyKitTarget::context());
                    sdk_check.check(&handle, &request).await
                })
                .await;
            assert_eq!(
                raw_request.names(),
                [
                    "x-vfk-server-key",
                    "x-vfk-forwarded-for",
                    "content-type",
                    "accept",
                    "user-agent",
                    "host",
                    "content-length"
                ],
                "the raw side's own header order"
            );
            assert_eq!(raw_request.clone().sorted(), sdk_request.sorted());
            assert!(raw_request.line.starts_with("POST "), "{raw_request:?}");

            let phone = "+905321234567";
            let raw_request = capture
                .request_of(async move { raw.resolve("session1", phone).await })
                .await;
            let sdk_request = capture
                .request_of(async move {
                    let session = SessionId::new("session1").unwrap();
                    sdk.resolve(&session, &VerifyKitTarget::context()).await
                })
                .await;
            assert_eq!(
                raw_request.names(),
                [
                    "x-vfk-server-key",
                    "x-vfk-forwarded-for",
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
                    .any(|(name, _)| name == "x-vfk-server-key"),
                "{raw_request:?}"
            );
        });
    }
}
