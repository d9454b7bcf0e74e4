//! Messente Verigator: SMS PINs of a service's users (`POST …/users/{uid}/auth`, checked with
//! `PUT …/users/{uid}/auth`). Verigator has no sessions: `check` only.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use anyhow::{Context as _, Result, anyhow, ensure};
use async_trait::async_trait;
use phone_verify_core::http::ConfigureHttp;
use phone_verify_core::{PhoneVerifier, SessionResolver, StartRequest, Verification};
use phone_verify_sandbox::SandboxHandle;
use phone_verify_verigator::{EXTRA_SERVICE_ID, Verigator, VerigatorBuilder};
use reqwest::Url;
use reqwest::header::{HeaderName, HeaderValue};
use serde::{Deserialize, Serialize};

use super::{Op, Phones, Side, Target, boxed, codes_by_reference, prepare, sdk_check_op};

/// Users per service when preparing checks (one fresh verifier per service).
const USERS_PER_SERVICE: usize = 50;

/// The most concurrent flows Verigator can run: each registers a user, and the sandbox keeps
/// the users of its newest 200,000 registrations (`phone_verify_sandbox`'s `MAX_USERS`, not
/// exported); past them a flow's user would be forgotten before its check.
pub(crate) const MAX_FLOWS: usize = 200_000;

/// The verifier measured, from `builder` on the service `service_id` (building it sends
/// nothing; the service is created apart).
pub(crate) fn sdk(builder: &VerigatorBuilder, service_id: String) -> Result<Verigator> {
    builder
        .clone()
        .service_id(service_id)
        .build()
        .context("building the Verigator verifier")
}

/// Verigator against the sandbox.
#[derive(Debug)]
pub(crate) struct VerigatorTarget {
    sandbox: Arc<SandboxHandle>,
    builder: VerigatorBuilder,
    /// The verifier measured, on the service the flows use.
    sdk: Arc<Verigator>,
    /// One pool for the preparation verifiers (one per service).
    prep_client: reqwest::Client,
    raw: Arc<Raw>,
    /// The same on a client of its own: the other side of an A/A run.
    twin: Arc<Raw>,
    phones: Arc<Phones>,
    services: AtomicUsize,
}

/// Verigator's credentials header.
const SERVICE_AUTH: HeaderName = HeaderName::from_static("x-service-auth");

/// The hand-written client: the base URL parsed and the header value built once.
#[derive(Clone, Debug)]
struct Raw {
    client: reqwest::Client,
    base: Url,
    service_auth: HeaderValue,
}

impl VerigatorTarget {
    /// The raw client of `side` (the twin's for an A/A run's second side).
    fn raw_of(&self, side: Side) -> &Arc<Raw> {
        if side == Side::Twin {
            &self.twin
        } else {
            &self.raw
        }
    }

    /// A target on `sandbox`, with a fresh service for the flows.
    pub(crate) async fn new(sandbox: Arc<SandboxHandle>, phones: Arc<Phones>) -> Result<Self> {
        let builder = VerigatorBuilder::sandbox(&sandbox.base_url());
        let service = builder
            .build_client()?
            .create_service("flows.bench.example", "Bench flows")
            .await
            .context("creating a Verigator service")?;
        let sdk = sdk(&builder, service.id.clone())?;
        let raw = Raw::new(
            super::raw_client()?,
            &sandbox.verigator_url(),
            &sandbox.config().verigator_service_auth(),
        )?;
        let twin = Raw {
            client: super::raw_client()?,
            ..raw.clone()
        };
        Ok(Self {
            sandbox,
            builder,
            sdk: Arc::new(sdk),
            prep_client: reqwest::Client::new(),
            raw: Arc::new(raw),
            twin: Arc::new(twin),
            phones,
            services: AtomicUsize::new(0),
        })
    }

    /// A verifier on a new service, sharing the preparation pool.
    async fn fresh_service_verifier(&self) -> Result<Verigator> {
        let n = self.services.fetch_add(1, Ordering::Relaxed);
        let service = self
            .builder
            .clone()
            .reqwest_client(self.prep_client.clone())
            .build_client()?
            .create_service(&format!("s{n}.bench.example"), &format!("Bench {n}"))
            .await?;
        Ok(self
            .builder
            .clone()
            .reqwest_client(self.prep_client.clone())
            .service_id(service.id)
            .build()?)
    }

    /// `n` SMS authentications started with the SDK, `USERS_PER_SERVICE` per service, with
    /// their PINs.
    async fn started(&self, n: usize) -> Result<Vec<(Verification, String)>> {
        let mut verifiers = Vec::new();
        for _ in 0..n.div_ceil(USERS_PER_SERVICE) {
            verifiers.push(Arc::new(self.fresh_service_verifier().await?));
        }
        let verifiers = Arc::new(verifiers);
        let phones = Arc::clone(&self.phones);
        let handles = prepare(n, 64, move |i| {
            let verifier = Arc::clone(&verifiers[i / USERS_PER_SERVICE]);
            let phone = phones.next();
            async move { Ok(verifier.start(&StartRequest::sms(phone?)).await?) }
        })
        .await?;
        let codes = codes_by_reference(&self.sandbox);
        handles
            .into_iter()
            .map(|h| {
                let code = codes
                    .get(&h.reference)
                    .cloned()
                    .with_context(|| format!("no PIN was sent to user {}", h.reference))?;
                Ok((h, code))
            })
            .collect()
    }
}

/// A raw check: the user's service and id, and the PIN.
struct RawCheck {
    service: String,
    user: String,
    pin: String,
}

impl RawCheck {
    /// The check of `handle` with `pin`, as a hand-written client keeps it.
    fn of(handle: &Verification, pin: String) -> Result<Self> {
        Ok(Self {
            service: handle
                .extra_str(EXTRA_SERVICE_ID)
                .context("no service id")?
                .to_owned(),
            user: handle.reference.clone(),
            pin,
        })
    }
}

impl Raw {
    /// A client of the Verigator API at `verigator_url`, with `service_auth` (`user:password`).
    fn new(client: reqwest::Client, verigator_url: &str, service_auth: &str) -> Result<Self> {
        Ok(Self {
            client,
            base: super::parse_url(verigator_url)?,
            service_auth: super::secret_value(service_auth)?,
        })
    }

    /// `PUT …/users/{user}/auth` with the PIN: verified, or an error. The URL is the base's
    /// with the ids' segments added, as the SDK joins them.
    async fn check(&self, item: &RawCheck) -> Result<()> {
        let mut url = self.base.clone();
        url.path_segments_mut()
            .map_err(|()| anyhow!("the Verigator URL cannot take a path"))?
            .extend([
                "service",
                "service",
                &item.service,
                "users",
                &item.user,
                "auth",
            ]);
        let answer: Verified = self
            .client
            .put(url)
            .header(SERVICE_AUTH, self.service_auth.clone())
            .json(&VerifyBody {
                token: &item.pin,
                method: "sms",
            })
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        ensure!(answer.verified, "not verified");
        Ok(())
    }
}

#[derive(Serialize)]
struct VerifyBody<'a> {
    token: &'a str,
    method: &'a str,
}

#[derive(Deserialize)]
struct Verified {
    verified: bool,
}

#[async_trait]
impl Target for VerigatorTarget {
    fn name(&self) -> &'static str {
        "verigator"
    }

    async fn check_op(&self, side: Side, n: usize) -> Result<Op> {
        let started = self.started(n).await?;
        match side {
            Side::Sdk => Ok(sdk_check_op(self.sdk.clone(), started, None)),
            Side::Raw | Side::Twin => {
                let items: Vec<RawCheck> = started
                    .into_iter()
                    .map(|(h, pin)| RawCheck::of(&h, pin))
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

    async fn resolve_op(&self, _side: Side, _pool: usize) -> Result<Op> {
        anyhow::bail!("Verigator has no session resolution")
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
        let rt = crate::runner::runtime("test-verigator", 2).unwrap();
        rt.block_on(async {
            let sandbox = Arc::new(Sandbox::start(SandboxConfig::seeded(1)).await.unwrap());
            let target = VerigatorTarget::new(Arc::clone(&sandbox), Arc::new(Phones::turkish()))
                .await
                .unwrap();
            let (handle, pin) = target.started(1).await.unwrap().remove(0);
            let capture = Capture::new().await;
            let raw = Raw::new(
                crate::targets::raw_client().unwrap(),
                &capture.url(&sandbox.verigator_url(), &sandbox),
                &sandbox.config().verigator_service_auth(),
            )
            .unwrap();
            let service = handle.extra_str(EXTRA_SERVICE_ID).unwrap().to_owned();
            let sdk = VerigatorBuilder::sandbox(capture.base())
                .service_id(service)
                .build()
                .unwrap();

            let item = RawCheck::of(&handle, pin.clone()).unwrap();
            let raw_request = capture
                .request_of(async move { raw.check(&item).await })
                .await;
            let sdk_request = capture
                .request_of(async move {
                    let request = CheckRequest::code(Code::new(&pin).unwrap());
                    sdk.check(&handle, &request).await
                })
                .await;
            assert_eq!(
                raw_request.names(),
                [
                    "x-service-auth",
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
                    .line
                    .starts_with("PUT /verigator/v1/service/service/")
                    && raw_request.line.contains("/auth "),
                "{raw_request:?}"
            );
        });
    }
}
